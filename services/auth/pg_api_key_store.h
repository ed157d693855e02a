#ifndef UPDRAFT_SERVICES_AUTH_PG_API_KEY_STORE_H_
#define UPDRAFT_SERVICES_AUTH_PG_API_KEY_STORE_H_

#include "common/pg_pool.h"
#include "services/auth/api_key_store.h"

namespace updraft {

// ApiKeyStore over the api_keys table (schema in migrations/): key hashes,
// names unique among valid keys, changes audited in the same transaction.
class PgApiKeyStore : public ApiKeyStore {
 public:
  // `pool` must outlive the store.
  explicit PgApiKeyStore(PgPool* pool) : pool_(pool) {}
  absl::Status Create(const ApiKeyRecord& key, const AuditEntry& audit) override;
  absl::Status CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) override;
  absl::StatusOr<ApiKeyRecord> FindByHash(absl::string_view key_hash) override;
  absl::StatusOr<ApiKeyRecord> Get(absl::string_view key_id) override;
  absl::StatusOr<ApiKeyRecord> Revoke(absl::string_view key_id, const AuditEntry& audit) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> List() override;

 private:
  absl::StatusOr<std::vector<ApiKeyRecord>> Select(const std::string& where,
                                                   const std::string& param);
  PgPool* pool_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_PG_API_KEY_STORE_H_
