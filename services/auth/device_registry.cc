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

absl::Status TransitionError(const DeviceRecord& device, DeviceStatus to) {
  std::string now =
      absl::StrCat("device ", device.device_id, " is ", DeviceStatusName(device.status));
  if (device.status == to) return absl::FailedPreconditionError(absl::StrCat(now, " already"));
  switch (to) {
    case DeviceStatus::kRejected:
      return absl::FailedPreconditionError(
          absl::StrCat(now, "; only a pending device can be rejected",
                       device.status == DeviceStatus::kAccepted ? " (revoke it instead)" : ""));
    case DeviceStatus::kAccepted:
      return absl::FailedPreconditionError(
          absl::StrCat(now, "; only a pending, rejected or revoked device can be accepted"));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(now, "; it cannot become ", DeviceStatusName(to)));
  }
}

}  // namespace updraft
