#ifndef UPDRAFT_SERVICES_AUTH_API_KEY_STORE_H_
#define UPDRAFT_SERVICES_AUTH_API_KEY_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/operator_auth.h"
#include "services/auth/audit_log.h"

namespace updraft {

// An operator API key as stored: never the key, only its SHA-256.
struct ApiKeyRecord {
  // "ak_" + 16 hex digits; the subject of the key's operator tokens.
  std::string key_id;
  std::string name;
  Role role = Role::kViewer;
  // Raw 32-byte SHA-256 of the raw 32-byte key.
  std::string key_hash;
  absl::Time created_at = absl::InfinitePast();
  // Key ID of the creator, or "bootstrap".
  std::string created_by;
  // InfiniteFuture while valid.
  absl::Time revoked_at = absl::InfiniteFuture();

  bool revoked() const { return revoked_at != absl::InfiniteFuture(); }
};

// Where API keys live (table api_keys; PgApiKeyStore). Every change writes
// its audit entry in the same transaction.
class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  // ALREADY_EXISTS "an API key named X already exists" when a valid key has
  // that name.
  virtual absl::Status Create(const ApiKeyRecord& key, const AuditEntry& audit) = 0;
  // Creates `key` only when no valid admin key exists, atomically across
  // auth replicas; FAILED_PRECONDITION otherwise.
  virtual absl::Status CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) = 0;
  // NOT_FOUND when no key has this hash.
  virtual absl::StatusOr<ApiKeyRecord> FindByHash(absl::string_view key_hash) = 0;
  // NOT_FOUND "API key X does not exist".
  virtual absl::StatusOr<ApiKeyRecord> Get(absl::string_view key_id) = 0;
  // Sets revoked_at (kept when revoked already) and writes `audit`; NOT_FOUND.
  virtual absl::StatusOr<ApiKeyRecord> Revoke(absl::string_view key_id,
                                              const AuditEntry& audit) = 0;
  // Every key, valid and revoked, by creation.
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> List() = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_API_KEY_STORE_H_
