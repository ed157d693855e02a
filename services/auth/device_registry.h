#ifndef UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_
#define UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "services/auth/audit_log.h"

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
  KeyType key_type = KeyType::kEd25519;
  // Raw key: 32 bytes (Ed25519) or the 65-byte uncompressed point (P-256).
  std::string public_key;
  DeviceStatus status = DeviceStatus::kPending;
  std::map<std::string, std::string> attributes;
  // Set by the caller when the device is registered, and on every change.
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

// Which devices to list, in device ID order.
struct DeviceQuery {
  std::optional<DeviceStatus> status;
  // Only IDs greater than this (paging).
  std::string after_device_id;
  int limit = 100;
};

// FAILED_PRECONDITION explaining why `device` cannot move to `to`, e.g.
// "device phone-1 is accepted; only a pending device can be rejected
// (revoke it instead)". Shared by the registry implementations.
absl::Status TransitionError(const DeviceRecord& device, DeviceStatus to);

// Where device identities live. Implementations: PgDeviceRegistry
// (PostgreSQL); tests use FakeDeviceRegistry or MockDeviceRegistry. Callers
// validate the fields before calling. Every change writes its audit entry
// in the same transaction.
class DeviceRegistry {
 public:
  virtual ~DeviceRegistry() = default;
  // Stores a new device and returns it as stored.
  // ALREADY_EXISTS "device X is already registered" when the ID is taken.
  virtual absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device,
                                                const AuditEntry& audit) = 0;
  // NOT_FOUND when no such device.
  virtual absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) = 0;
  virtual absl::StatusOr<std::vector<DeviceRecord>> List(const DeviceQuery& query) = 0;
  // Sets the status of a device whose status is one of `from` to `to` (and
  // updated_at to `audit.at`). NOT_FOUND, or TransitionError when its status
  // is not in `from`.
  virtual absl::StatusOr<DeviceRecord> Transition(absl::string_view device_id,
                                                  const std::vector<DeviceStatus>& from,
                                                  DeviceStatus to, const AuditEntry& audit) = 0;
  // Stores all devices or none, with one audit entry per device (`audit`
  // with its device_id and detail filled in). When a device ID is already
  // registered: ALREADY_EXISTS, and `*conflict_index` is its index in
  // `devices`.
  virtual absl::Status Import(const std::vector<DeviceRecord>& devices, const AuditEntry& audit,
                              size_t* conflict_index) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_DEVICE_REGISTRY_H_
