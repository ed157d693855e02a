#include "services/auth/pg_signing_key_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/auth/pg_audit_log.h"

namespace updraft {
namespace {

void Insert(pqxx::work& txn, const StoredSigningKey& key) {
  txn.exec_params(
      absl::StrCat("INSERT INTO signing_keys (key_id, private_key, created_at, "
                   "active_from, retired_at) VALUES ($1, decode($2, 'hex'), ",
                   PgTimeFromParam(3), ", ", PgTimeFromParam(4), ", ", PgTimeFromParam(5), ")"),
      key.key_id, absl::BytesToHexString(key.private_key), ToPgMicros(key.created_at),
      ToPgMicros(key.active_from), ToPgMicros(key.retired_at));
}

}  // namespace

absl::StatusOr<std::vector<StoredSigningKey>> PgSigningKeyStore::List() {
  std::vector<StoredSigningKey> out;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    pqxx::result r =
        txn.exec(absl::StrCat("SELECT key_id, encode(private_key, 'hex'), ", PgMicros("created_at"),
                              ", ", PgMicros("active_from"), ", ", PgMicros("retired_at"),
                              " FROM signing_keys ORDER BY created_at, key_id"));
    for (const auto& row : r) {
      StoredSigningKey k;
      k.key_id = row[0].as<std::string>();
      k.private_key = absl::HexStringToBytes(row[1].as<std::string>());
      k.created_at = FromPgMicros(row[2]);
      k.active_from = FromPgMicros(row[3]);
      k.retired_at = FromPgMicros(row[4]);
      out.push_back(std::move(k));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<bool> PgSigningKeyStore::InsertIfEmpty(const StoredSigningKey& key,
                                                      const AuditEntry& audit) {
  bool inserted = false;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    inserted = false;
    txn.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
    if (!txn.exec("SELECT 1 FROM signing_keys LIMIT 1").empty()) return absl::OkStatus();
    Insert(txn, key);
    InsertAudit(txn, audit);
    inserted = true;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return inserted;
}

absl::Status PgSigningKeyStore::Rotate(const StoredSigningKey& key, const AuditEntry& audit) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE");
    txn.exec_params(absl::StrCat("UPDATE signing_keys SET retired_at = ", PgTimeFromParam(1),
                                 " WHERE retired_at IS NULL"),
                    ToPgMicros(key.active_from));
    Insert(txn, key);
    InsertAudit(txn, audit);
    return absl::OkStatus();
  });
}

}  // namespace updraft
