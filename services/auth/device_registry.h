#ifndef UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_
#define UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace updraft {

// Admission state of a device. Only accepted devices may log in.
enum class DeviceStatus { kPending, kAccepted, kRejected, kRevoked };

// "pending", "accepted", "rejected", "revoked": the names stored and shown
// in the API.
absl::string_view DeviceStatusName(DeviceStatus status);
// INVALID_ARGUMENT for any other name.
absl::StatusOr<DeviceStatus> ParseDeviceStatus(absl::string_view name);

// A device identity as the auth service knows it.
struct DeviceRecord {
  std::string device_id;
  // Raw 32-byte Ed25519 public key.
  std::string public_key;
  DeviceStatus status = DeviceStatus::kPending;
  std::map<std::string, std::string> attributes;
  // Set by the registry when the device is registered.
  absl::Time created_at = absl::InfinitePast();
};

// Where device identities live. Implementations: PgDeviceRegistry
// (PostgreSQL); tests use fakes or MockDeviceRegistry. Callers validate the
// fields before calling.
class DeviceRegistry {
 public:
  virtual ~DeviceRegistry() = default;
  // Stores a new device and returns it as stored (with created_at).
  // ALREADY_EXISTS when the device ID is taken.
  virtual absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device) = 0;
  // NOT_FOUND when no such device.
  virtual absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_
