#ifndef UPDRAFT_SERVICES_AUTH_PG_SIGNING_KEY_STORE_H_
#define UPDRAFT_SERVICES_AUTH_PG_SIGNING_KEY_STORE_H_

#include "common/pg_pool.h"
#include "services/auth/signing_key_store.h"

namespace updraft {

// SigningKeyStore over the signing_keys table (schema in migrations/).
// Changes lock the table, so replicas seeding or rotating at the same time
// are serialized. The private keys are stored as they are: the database
// must be protected like the key file it replaces.
class PgSigningKeyStore : public SigningKeyStore {
 public:
  // `pool` must outlive the store.
  explicit PgSigningKeyStore(PgPool* pool) : pool_(pool) {}
  absl::StatusOr<std::vector<StoredSigningKey>> List() override;
  absl::StatusOr<bool> InsertIfEmpty(const StoredSigningKey& key, const AuditEntry& audit) override;
  absl::Status Rotate(const StoredSigningKey& key, const AuditEntry& audit) override;

 private:
  PgPool* pool_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_PG_SIGNING_KEY_STORE_H_
