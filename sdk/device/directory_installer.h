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

  std::string PackageDir(const std::string& package_name) const;

 private:
  explicit DirectoryInstaller(Options options) : options_(std::move(options)) {}
  absl::Status Repair(const std::string& package_name);
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
