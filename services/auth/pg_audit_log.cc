#include "services/auth/pg_audit_log.h"

#include "absl/strings/str_cat.h"

namespace updraft {

std::string PgTimeFromParam(int param) {
  return absl::StrCat("(CASE WHEN $", param, "::bigint < 0 THEN NULL ELSE timestamptz 'epoch' + $",
                      param, "::bigint * interval '1 microsecond' END)");
}

std::string PgMicros(absl::string_view column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}

int64_t ToPgMicros(absl::Time t) {
  return t == absl::InfiniteFuture() ? -1 : absl::ToUnixMicros(t);
}

absl::Time FromPgMicros(const pqxx::field& field) {
  return field.is_null() ? absl::InfiniteFuture() : absl::FromUnixMicros(field.as<int64_t>());
}

void InsertAudit(pqxx::work& txn, const AuditEntry& e) {
  txn.exec_params(absl::StrCat("INSERT INTO auth_audit (at, actor, action, device_id, detail) "
                               "VALUES (",
                               PgTimeFromParam(1), ", $2, $3, NULLIF($4, ''), $5)"),
                  ToPgMicros(e.at), e.actor, e.action, e.device_id, e.detail);
}

absl::Status PgAuditLog::Append(const AuditEntry& entry) {
  return pool_->Transact([&](pqxx::work& txn) {
    InsertAudit(txn, entry);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AuditEntry>> PgAuditLog::List(const AuditQuery& query) {
  std::vector<AuditEntry> out;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) {
    out.clear();
    pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT id, ", PgMicros("at"),
                     ", actor, action, coalesce(device_id, ''), detail FROM auth_audit "
                     "WHERE ($1 = '' OR device_id = $1) AND ($2 = 0 OR id < $2) "
                     "ORDER BY id DESC LIMIT $3"),
        query.device_id, query.before_id, query.limit);
    for (const auto& row : r) {
      AuditEntry e;
      e.id = row[0].as<int64_t>();
      e.at = FromPgMicros(row[1]);
      e.actor = row[2].as<std::string>();
      e.action = row[3].as<std::string>();
      e.device_id = row[4].as<std::string>();
      e.detail = row[5].as<std::string>();
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace updraft
