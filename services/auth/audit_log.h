#ifndef UPDRAFT_SERVICES_AUTH_AUDIT_LOG_H_
#define UPDRAFT_SERVICES_AUTH_AUDIT_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace updraft {

// One change to auth's state: who (`actor`), what (`action`, `device_id`,
// `detail`), when (`at`). Stores write the entry in the same transaction
// as the change it describes.
struct AuditEntry {
  // Assigned by the log; increasing.
  int64_t id = 0;
  absl::Time at;
  // "<API key name> (<key ID>)", "device <ID>" or "bootstrap".
  std::string actor;
  // register_device, import_device, self_register_device, accept_device,
  // reject_device, revoke_device, revoke_token, create_api_key,
  // revoke_api_key, rotate_signing_key, seed_signing_key.
  std::string action;
  std::string device_id;
  std::string detail;
};

// Which audit entries to list: newest first.
struct AuditQuery {
  // Only entries about this device when set.
  std::string device_id;
  // Only entries with a lower ID when positive (paging).
  int64_t before_id = 0;
  int limit = 100;
};

// The audit trail (table auth_audit). Changes with their own store write
// their entry through that store; Append is for events that change nothing
// else in the database (a token revocation).
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual absl::Status Append(const AuditEntry& entry) = 0;
  virtual absl::StatusOr<std::vector<AuditEntry>> List(const AuditQuery& query) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_AUDIT_LOG_H_
