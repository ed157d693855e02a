#include "sdk/device/installer.h"

#include "absl/strings/str_cat.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

absl::Status NotImplemented(absl::string_view what, const ComponentRef& c) {
  return WithResultCode(
      absl::UnimplementedError(absl::StrCat("this installer cannot ", what, " component ", c.dc_id,
                                            " of package ", c.package_name)),
      v1::NOT_IMPLEMENTED);
}

}  // namespace

absl::Status Installer::Activate(const ComponentRef& c) { return NotImplemented("activate", c); }

absl::Status Installer::Deactivate(const ComponentRef& c) {
  return NotImplemented("deactivate", c);
}

absl::Status Installer::RemoveComponent(const ComponentRef& c) {
  return NotImplemented("remove", c);
}

}  // namespace updraft::device
