#ifndef UPDRAFT_SDK_DEVICE_DIRECTORY_INSTALLER_H_
#define UPDRAFT_SDK_DEVICE_DIRECTORY_INSTALLER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sdk/device/installer.h"

namespace updraft::device {

// An Installer whose "handset" is a directory: package P lives in
// `<root>/P/`. An install extracts the tar artifact safely (tar_extract.h)
// into `<root>/.staging-P`, writes the release settings to
// `.updraft/settings.conf` inside it, syncs, then swaps it in: rename `P` to
// `.old-P`, rename the staging directory to `P`, delete `.old-P`. Any failure
// removes the staging directory and puts the old version back. An install
// interrupted by a crash between the two renames is repaired on the next
// Create() or Install(). Remove() renames `P` to `.removing-P` and deletes
// that, so a crash never leaves half a package under `P`.
//
// Per-component operations: an install records each DC's files (DCinfo
// variant A) in `P/.updraft/dc/<dc_id>.files`; Deactivate() creates the
// marker `P/.updraft/inactive/<dc_id>` (the platform starts no inactive
// component), Activate() deletes it, RemoveComponent() deletes the DC's
// files and records. All three are idempotent, so repeating one after a
// crash is harmless; a new install of P starts with every DC active.
class DirectoryInstaller : public Installer {
 public:
  struct Options {
    std::string root;
  };

  // Creates `root` when needed and repairs interrupted swaps.
  static absl::StatusOr<std::unique_ptr<DirectoryInstaller>> Create(Options options);

  absl::StatusOr<InstallResult> Install(const std::string& package_name,
                                        const std::string& artifact_path,
                                        const v1::Release& release) override;
  absl::Status Remove(const std::string& package_name) override;
  absl::Status Activate(const ComponentRef& component) override;
  absl::Status Deactivate(const ComponentRef& component) override;
  absl::Status RemoveComponent(const ComponentRef& component) override;

  std::string PackageDir(const std::string& package_name) const;
  // False when the DC's inactive marker exists.
  bool IsActive(const std::string& package_name, const std::string& dc_id) const;

 private:
  explicit DirectoryInstaller(Options options) : options_(std::move(options)) {}
  absl::Status Repair(const std::string& package_name);
  // The package directory of an installed package holding a DC with a
  // usable ID; otherwise an error carrying `code`.
  absl::StatusOr<std::string> ComponentPackageDir(const ComponentRef& c, v1::ResultCode code);
  absl::Status Swap(const std::string& package_name, const std::string& staging, bool* existed);

  const Options options_;
};

// INVALID_ARGUMENT unless `name` is usable as a package directory: 1-128
// characters of [A-Za-z0-9._+-], not starting with '.'.
absl::Status ValidatePackageName(const std::string& name);

// The configure step's file: "key=value" lines sorted by key. Keys must be
// non-empty without '=', newlines or NUL; values without newlines or NUL.
absl::StatusOr<std::string> RenderSettings(const std::map<std::string, std::string>& settings);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_DIRECTORY_INSTALLER_H_
