#ifndef UPDRAFT_SDK_DEVICE_INSTALLER_H_
#define UPDRAFT_SDK_DEVICE_INSTALLER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::device {

// What an install did.
struct InstallResult {
  // OVERWRITE when the package was installed before, FRESH_INSTALL otherwise.
  v1::OfferKind kind = v1::OFFER_KIND_UNSPECIFIED;
  // Where the package now lives, for telling the user.
  std::string location;
  // Number of release settings applied by the configure step.
  int settings_applied = 0;
};

// One deployment component (DC) a per-component operation acts on.
struct ComponentRef {
  // The package the DC was installed with; empty for a DC installed offline
  // (not through Updraft).
  std::string package_name;
  std::string dc_id;
  std::string name;
  std::string version;
};

// The platform side of installing software: how a verified artifact becomes
// installed, configured software on the handset. The client calls it after
// the download verified the artifact; errors carry a SCOMO result code
// (result_code.h): PACKAGE_VALIDATION_FAILED for a package that is bad in
// itself, INSTALL_FAILED (the default) or INSTALL_OUT_OF_MEMORY otherwise.
// An install either completes or leaves the previous version untouched.
// The default is DirectoryInstaller.
class Installer {
 public:
  virtual ~Installer() = default;

  // Installs the artifact at `artifact_path` as `package_name`, overwriting
  // an installed version or installing fresh, and applies `release`'s
  // settings (configure step) before the new version becomes visible.
  virtual absl::StatusOr<InstallResult> Install(const std::string& package_name,
                                                const std::string& artifact_path,
                                                const v1::Release& release) = 0;

  // Removes an installed package; NOT_FOUND when it is not installed.
  virtual absl::Status Remove(const std::string& package_name) = 0;

  // Per-component operations (SCOMO Inventory/Deployed/<X>/Operations),
  // each idempotent (activating an active DC succeeds) and carrying the SCOMO
  // result code of its failure: ACTIVATE_FAILED, DEACTIVATE_FAILED or
  // REMOVE_FAILED. The defaults answer UNIMPLEMENTED with NOT_IMPLEMENTED
  // (1411), which the device reports as such.
  virtual absl::Status Activate(const ComponentRef& component);
  virtual absl::Status Deactivate(const ComponentRef& component);
  // Removes one DC of a package that keeps its other DCs (the client calls
  // Remove(package) when the last DC goes).
  virtual absl::Status RemoveComponent(const ComponentRef& component);
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_INSTALLER_H_
