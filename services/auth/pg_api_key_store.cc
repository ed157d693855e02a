#include "services/auth/pg_api_key_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/auth/pg_audit_log.h"

namespace updraft {
namespace {

absl::Status Insert(pqxx::work& txn, const ApiKeyRecord& key, const AuditEntry& audit) {
  pqxx::result taken =
      txn.exec_params("SELECT 1 FROM api_keys WHERE name = $1 AND revoked_at IS NULL", key.name);
  if (!taken.empty()) {
    return absl::AlreadyExistsError(absl::StrCat("an API key named ", key.name, " already exists"));
  }
  txn.exec_params(absl::StrCat("INSERT INTO api_keys (key_id, name, role, key_hash, created_at, "
                               "created_by) VALUES ($1, $2, $3, decode($4, 'hex'), ",
                               PgTimeFromParam(5), ", $6)"),
                  key.key_id, key.name, std::string(RoleName(key.role)),
                  absl::BytesToHexString(key.key_hash), ToPgMicros(key.created_at), key.created_by);
  InsertAudit(txn, audit);
  return absl::OkStatus();
}

}  // namespace

absl::Status PgApiKeyStore::Create(const ApiKeyRecord& key, const AuditEntry& audit) {
  return pool_->Transact([&](pqxx::work& txn) { return Insert(txn, key, audit); });
}

absl::Status PgApiKeyStore::CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE");
    pqxx::result admins =
        txn.exec("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1");
    if (!admins.empty()) {
      return absl::FailedPreconditionError("a valid admin API key exists already");
    }
    return Insert(txn, key, audit);
  });
}

absl::StatusOr<std::vector<ApiKeyRecord>> PgApiKeyStore::Select(const std::string& where,
                                                                const std::string& param) {
  std::vector<ApiKeyRecord> out;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT key_id, name, role, encode(key_hash, 'hex'), ", PgMicros("created_at"),
                     ", created_by, ", PgMicros("revoked_at"), " FROM api_keys ", where,
                     " ORDER BY created_at, key_id"),
        param);
    for (const auto& row : r) {
      ApiKeyRecord k;
      k.key_id = row[0].as<std::string>();
      k.name = row[1].as<std::string>();
      auto role = ParseRole(row[2].as<std::string>());
      if (!role.ok())
        return absl::InternalError(absl::StrCat("API key ", k.key_id, " has a bad role"));
      k.role = *role;
      k.key_hash = absl::HexStringToBytes(row[3].as<std::string>());
      k.created_at = FromPgMicros(row[4]);
      k.created_by = row[5].as<std::string>();
      k.revoked_at = FromPgMicros(row[6]);
      out.push_back(std::move(k));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<ApiKeyRecord> PgApiKeyStore::FindByHash(absl::string_view key_hash) {
  auto found = Select("WHERE key_hash = decode($1, 'hex')", absl::BytesToHexString(key_hash));
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError("no API key with this hash");
  return (*found)[0];
}

absl::StatusOr<ApiKeyRecord> PgApiKeyStore::Get(absl::string_view key_id) {
  auto found = Select("WHERE key_id = $1", std::string(key_id));
  if (!found.ok()) return found.status();
  if (found->empty())
    return absl::NotFoundError(absl::StrCat("API key ", key_id, " does not exist"));
  return (*found)[0];
}

absl::StatusOr<ApiKeyRecord> PgApiKeyStore::Revoke(absl::string_view key_id,
                                                   const AuditEntry& audit) {
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r =
        txn.exec_params(absl::StrCat("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ",
                                     PgTimeFromParam(2), ") WHERE key_id = $1 RETURNING key_id"),
                        std::string(key_id), ToPgMicros(audit.at));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("API key ", key_id, " does not exist"));
    InsertAudit(txn, audit);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return Get(key_id);
}

absl::StatusOr<std::vector<ApiKeyRecord>> PgApiKeyStore::List() {
  return Select("WHERE $1 = ''", "");
}

}  // namespace updraft
