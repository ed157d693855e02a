#ifndef UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/operator_auth.h"
#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/auth/api_key_store.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"
#include "services/auth/device_validation.h"
#include "services/auth/rate_limiter.h"
#include "services/auth/signing_key_ring.h"

namespace updraft {

inline constexpr size_t kNonceSize = 32;
// Payload of a RESOURCE_EXHAUSTED status: the retry delay in milliseconds
// (decimal text); the gRPC adapter sends it as trailing metadata
// "retry-after-ms".
inline constexpr absl::string_view kRetryAfterPayload = "updraft.dev/retry-after-ms";

// A device asking for a login challenge.
struct ChallengeRequest {
  std::string device_id;
  // The caller's address (peer IP), for the per-source rate limit.
  std::string source;
  // Presented by a device that is not registered yet: it is recorded as
  // pending. Empty otherwise.
  std::string public_key;
  KeyType key_type = KeyType::kEd25519;
};

// A login challenge as handed to a device.
struct IssuedChallenge {
  // 32 random bytes; the device signs LoginMessage(device_id, nonce).
  std::string nonce;
  absl::Time expires_at;
};

// A device's signed challenge.
struct LoginRequest {
  std::string device_id;
  std::string nonce;
  std::string signature;
  std::string source;
};

// What a successful device Login hands out.
struct DeviceLogin {
  IssuedToken token;
  // The device's next challenge (see AuthService); nullopt when none is
  // issued (next_challenge_ttl 0, or the challenge store failed).
  std::optional<IssuedChallenge> next_challenge;
};

// What OperatorLogin hands out.
struct OperatorToken {
  IssuedToken token;
  std::string key_id;
  Role role = Role::kViewer;
};

// The device-facing half of the auth service, free of any transport:
// challenge-response login with the device's Ed25519 or P-256 key, pending
// admission of unknown devices, rate limits, the published token keys, and
// the operators' API-key login. The gRPC adapter (grpc_auth_service.h)
// calls it; stores, rate limiter, clock and key ring are injected.
//
// Login flow: GetChallenge(device) issues a single-use nonce valid for
// `challenge_ttl`; the device signs LoginMessage(device_id, nonce) and calls
// Login, which consumes the challenge (even when the signature is wrong, so
// it can never be retried) and issues a token for audience kDeviceAudience.
// With `next_challenge_ttl` > 0 a successful Login also hands out the
// device's next challenge (as HTTP Digest's `nextnonce`), valid for that
// long: the device may sign it and call Login directly next time. It follows
// every rule of a GetChallenge challenge (single use, bound to the device,
// consumed by any well-formed attempt, the same rate limits, and the device
// must still be accepted when it logs in with it); a device holds at most
// one (ChallengeStore::PutNext replaces the previous one).
//
// GetChallenge and Login count against `per_device` (key "device:<ID>") and
// `per_source` (key "source:<address>"); OperatorLogin against `per_source`.
// Over a limit: RESOURCE_EXHAUSTED "too many login attempts for device X;
// retry in N s" with the delay also as kRetryAfterPayload.
//
// Metrics (on `metrics`): updraft_auth_logins_total{result},
// updraft_auth_tokens_issued_total{audience},
// updraft_auth_rate_limited_total{scope}, updraft_auth_operator_logins_total{result},
// updraft_auth_next_challenges_total{result="issued"|"used"|"store_error"}
// ("used": a successful Login made with a next challenge).
class AuthService {
 public:
  struct Options {
    DeviceRegistry* registry = nullptr;
    ChallengeStore* challenges = nullptr;
    ApiKeyStore* api_keys = nullptr;
    SigningKeyRing* keys = nullptr;
    const Clock* clock = nullptr;
    // Optional: no rate limits without it.
    RateLimiter* rate_limiter = nullptr;
    RateLimit per_device{20, absl::Minutes(1)};
    RateLimit per_source{1000, absl::Minutes(1)};
    absl::Duration challenge_ttl = absl::Seconds(60);
    // Lifetime of the next challenge a Login hands out; 0: none. AuthServer
    // defaults it to the token lifetime + 5 min.
    absl::Duration next_challenge_ttl = absl::ZeroDuration();
    absl::Duration operator_token_ttl = absl::Minutes(10);
    // Optional.
    prometheus::Registry* metrics = nullptr;
  };

  // INVALID_ARGUMENT when a required pointer is missing or a duration is
  // not positive (next_challenge_ttl: not 0 and under 1s). All pointers
  // must outlive the service.
  static absl::StatusOr<std::unique_ptr<AuthService>> Create(Options options);

  // INVALID_ARGUMENT for a malformed ID or key, NOT_FOUND for an unknown
  // device that presents no key, PERMISSION_DENIED for a device that is not
  // accepted ("device X is pending operator approval" for a pending one,
  // including one just recorded), RESOURCE_EXHAUSTED over a rate limit.
  absl::StatusOr<IssuedChallenge> GetChallenge(const ChallengeRequest& request);

  // UNAUTHENTICATED when the challenge (from GetChallenge, or the device's
  // next challenge) is unknown, expired, used or issued to another device,
  // or when the signature does not verify; PERMISSION_DENIED when the device
  // is no longer accepted. A failure to store the next challenge does not
  // fail the login: the token comes without one.
  absl::StatusOr<DeviceLogin> Login(const LoginRequest& request);

  // UNAUTHENTICATED "invalid API key" for an unknown key (or malformed
  // text) and "API key X is revoked" for a revoked one.
  absl::StatusOr<OperatorToken> OperatorLogin(absl::string_view api_key, absl::string_view source);

  // The keys that verify the tokens this service issues.
  std::vector<TokenKey> PublicKeys() const;

 private:
  explicit AuthService(Options options);
  absl::StatusOr<DeviceRecord> GetAcceptedDevice(absl::string_view device_id);
  absl::Status CheckRate(absl::string_view scope, absl::string_view id, const RateLimit& limit);
  absl::StatusOr<DeviceRecord> RegisterPending(const ChallengeRequest& request);

  const Options options_;
  std::shared_ptr<prometheus::Registry> own_metrics_;
  prometheus::Family<prometheus::Counter>* logins_;
  prometheus::Family<prometheus::Counter>* tokens_;
  prometheus::Family<prometheus::Counter>* rate_limited_;
  prometheus::Family<prometheus::Counter>* operator_logins_;
  prometheus::Family<prometheus::Counter>* next_challenges_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_
