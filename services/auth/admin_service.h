#ifndef UPDRAFT_SERVICES_AUTH_ADMIN_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_ADMIN_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/logger.h"
#include "common/operator_auth.h"
#include "common/revocation.h"
#include "services/auth/api_key_store.h"
#include "services/auth/audit_log.h"
#include "services/auth/device_registry.h"
#include "services/auth/signing_key_ring.h"

namespace updraft {

// An API key just created: the record and the key itself (base64url of 32
// random bytes), which is never stored and never shown again.
struct CreatedApiKey {
  ApiKeyRecord record;
  std::string api_key;
};

// The operator-facing half of the auth service (AuthAdmin), free of any
// transport: device admission (register, CSV import, accept, reject,
// revoke), token revocation, API keys, signing key rotation and the audit
// trail. Callers have already checked the operator's role (the gRPC adapter
// does, with AuthorizeOperator); `who` is recorded in every audit entry as
// "<key name> (<key ID>)".
//
// Revoking a device, a token or an API key updates the database first and
// then publishes the revocation (RevocationPublisher, Redis pub/sub) so that
// every verifying service refuses the tokens within the pub/sub latency;
// services remember it for the longest token lifetime. Revoking again
// publishes again, so a failed publication can simply be retried.
class AdminService {
 public:
  struct Options {
    DeviceRegistry* registry = nullptr;
    ApiKeyStore* api_keys = nullptr;
    AuditLog* audit = nullptr;
    SigningKeyRing* keys = nullptr;
    RevocationPublisher* revocations = nullptr;
    const Clock* clock = nullptr;
    // Optional.
    Logger* logger = nullptr;
    size_t max_import_rows = 100000;
  };

  static absl::StatusOr<std::unique_ptr<AdminService>> Create(Options options);

  // INVALID_ARGUMENT for a malformed ID, key or attributes; ALREADY_EXISTS
  // when the ID is taken.
  absl::StatusOr<DeviceRecord> RegisterDevice(const OperatorIdentity& who,
                                              absl::string_view device_id, KeyType key_type,
                                              absl::string_view public_key,
                                              const std::map<std::string, std::string>& attributes);
  absl::StatusOr<DeviceRecord> GetDevice(absl::string_view device_id);
  // `status` empty for all; limit 1..1000 (0 means 100).
  absl::StatusOr<std::vector<DeviceRecord>> ListDevices(absl::string_view status,
                                                        absl::string_view after_device_id,
                                                        int limit);
  // All rows or none; returns the number imported. INVALID_ARGUMENT
  // "row N: ..." for a bad row, ALREADY_EXISTS "row N: device X is already
  // registered".
  absl::StatusOr<int64_t> ImportDevices(const OperatorIdentity& who, absl::string_view csv);
  absl::StatusOr<DeviceRecord> AcceptDevice(const OperatorIdentity& who,
                                            absl::string_view device_id, absl::string_view reason);
  absl::StatusOr<DeviceRecord> RejectDevice(const OperatorIdentity& who,
                                            absl::string_view device_id, absl::string_view reason);
  absl::StatusOr<DeviceRecord> RevokeDevice(const OperatorIdentity& who,
                                            absl::string_view device_id, absl::string_view reason);
  // Returns until when services remember the revocation.
  absl::StatusOr<absl::Time> RevokeToken(const OperatorIdentity& who, absl::string_view token_id,
                                         absl::string_view reason);

  absl::StatusOr<CreatedApiKey> CreateApiKey(const OperatorIdentity& who, absl::string_view name,
                                             absl::string_view role);
  absl::StatusOr<ApiKeyRecord> RevokeApiKey(const OperatorIdentity& who, absl::string_view key_id);
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys();

  absl::StatusOr<StoredSigningKey> RotateSigningKey(const OperatorIdentity& who);
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(absl::string_view device_id, int64_t before_id,
                                                    int limit);

  // auth --bootstrap_admin_key_file: when `path` holds a registered API
  // key, nothing happens. Otherwise, when no valid admin key exists, the key
  // in `path` (a Secret made by the operator) becomes the first admin key,
  // or, when `path` is missing, a new key is created and written there (mode
  // 0600) first and then stored, so a process killed in between leaves a key
  // the next start registers. When admin keys exist but the file holds none
  // of them, logs a warning and changes nothing. Returns whether a key was
  // registered.
  absl::StatusOr<bool> EnsureBootstrapAdminKey(const std::string& path);

 private:
  explicit AdminService(Options options) : options_(std::move(options)) {}
  std::string Actor(const OperatorIdentity& who);
  AuditEntry Audit(const OperatorIdentity& who, absl::string_view action,
                   absl::string_view device_id, std::string detail);
  absl::StatusOr<DeviceRecord> Transition(const OperatorIdentity& who, absl::string_view device_id,
                                          const std::vector<DeviceStatus>& from, DeviceStatus to,
                                          absl::string_view action, absl::string_view reason);
  absl::Status PublishSubject(absl::string_view audience, absl::string_view id, absl::Time at);
  absl::StatusOr<bool> RegisterBootstrapKey(const std::string& path, const std::string& raw,
                                            bool generated);

  const Options options_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_ADMIN_SERVICE_H_
