#ifndef UPDRAFT_SERVICES_AUTH_PG_AUDIT_LOG_H_
#define UPDRAFT_SERVICES_AUTH_PG_AUDIT_LOG_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/pg_pool.h"
#include "services/auth/audit_log.h"

namespace updraft {

// AuditLog over the auth_audit table (schema in migrations/).
class PgAuditLog : public AuditLog {
 public:
  // `pool` must outlive the log.
  explicit PgAuditLog(PgPool* pool) : pool_(pool) {}
  absl::Status Append(const AuditEntry& entry) override;
  absl::StatusOr<std::vector<AuditEntry>> List(const AuditQuery& query) override;

 private:
  PgPool* pool_;
};

// Writes `entry` in the caller's transaction; used by the Pg stores.
void InsertAudit(pqxx::work& txn, const AuditEntry& entry);

// SQL helpers shared by auth's Pg stores. Times travel as Unix
// microseconds; -1 stands for NULL (absl::InfiniteFuture).
std::string PgTimeFromParam(int param);
std::string PgMicros(absl::string_view column);
int64_t ToPgMicros(absl::Time t);
absl::Time FromPgMicros(const pqxx::field& field);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_PG_AUDIT_LOG_H_
