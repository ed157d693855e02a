#include "services/auth/device_registry.h"

#include "absl/strings/str_cat.h"

namespace updraft {

absl::string_view DeviceStatusName(DeviceStatus status) {
  switch (status) {
    case DeviceStatus::kPending:
      return "pending";
    case DeviceStatus::kAccepted:
      return "accepted";
    case DeviceStatus::kRejected:
      return "rejected";
    case DeviceStatus::kRevoked:
      return "revoked";
  }
  return "pending";
}

absl::StatusOr<DeviceStatus> ParseDeviceStatus(absl::string_view name) {
  for (DeviceStatus s : {DeviceStatus::kPending, DeviceStatus::kAccepted, DeviceStatus::kRejected,
                         DeviceStatus::kRevoked}) {
    if (DeviceStatusName(s) == name) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown device status '", name, "'; expected pending, accepted, rejected or revoked"));
}

}  // namespace updraft
