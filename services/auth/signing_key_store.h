#ifndef UPDRAFT_SERVICES_AUTH_SIGNING_KEY_STORE_H_
#define UPDRAFT_SERVICES_AUTH_SIGNING_KEY_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/auth/audit_log.h"

namespace updraft {

// A token signing key as stored (table signing_keys).
struct StoredSigningKey {
  std::string key_id;
  // Raw 32-byte Ed25519 private key.
  std::string private_key;
  absl::Time created_at;
  // Auth signs with the newest key whose active_from has passed; a rotated
  // key is published before it is used, so every verifier can know it.
  absl::Time active_from;
  // When a newer key took over signing; InfiniteFuture while current.
  absl::Time retired_at = absl::InfiniteFuture();
};

// Where token signing keys live, shared by every auth replica
// (PgSigningKeyStore). Changes write their audit entry in the same
// transaction and are serialized across replicas.
class SigningKeyStore {
 public:
  virtual ~SigningKeyStore() = default;
  // Every key, oldest first.
  virtual absl::StatusOr<std::vector<StoredSigningKey>> List() = 0;
  // Stores `key` when there is no key at all; false (and nothing written)
  // otherwise.
  virtual absl::StatusOr<bool> InsertIfEmpty(const StoredSigningKey& key,
                                             const AuditEntry& audit) = 0;
  // Adds `key` and retires every key not yet retired at key.active_from.
  virtual absl::Status Rotate(const StoredSigningKey& key, const AuditEntry& audit) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_SIGNING_KEY_STORE_H_
