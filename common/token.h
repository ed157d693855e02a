#ifndef UPDRAFT_COMMON_TOKEN_H_
#define UPDRAFT_COMMON_TOKEN_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/login_format.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

namespace updraft {

// Audience of device access tokens, checked by catalog, download and notifier.
inline constexpr absl::string_view kDeviceAudience = "updraft-device";
// Audience of operator tokens (OperatorLogin), checked by management RPCs.
inline constexpr absl::string_view kOperatorAudience = "updraft-operator";

// What a verified access token says.
struct AccessClaims {
  std::string key_id;
  std::string subject;
  std::string audience;
  std::string token_id;
  absl::Time issued_at;
  absl::Time expires_at;
  // Operator tokens only: "admin", "publisher" or "viewer".
  std::string role;
};

// A token as issued: the string, its expiry and its token ID.
struct IssuedToken {
  std::string token;
  absl::Time expires_at;
  std::string token_id;
};

// Per-token choices of TokenSigner::Issue.
struct TokenOptions {
  // Put in the claims (operator tokens).
  std::string role;
  // Zero: the signer's default lifetime.
  absl::Duration ttl = absl::ZeroDuration();
};

// LoginMessage and KeyIdFor: common/login_format.h (included above).

// Issues access tokens signed with auth's current key. A token is
// base64url(TokenClaims proto) "." base64url(Ed25519 signature).
class TokenSigner {
 public:
  TokenSigner(Ed25519KeyPair key, const Clock* clock, absl::Duration ttl);
  absl::StatusOr<IssuedToken> Issue(absl::string_view subject, absl::string_view audience,
                                    const TokenOptions& options = TokenOptions()) const;
  const std::string& key_id() const { return key_id_; }
  const std::string& public_key() const { return key_.public_key(); }

 private:
  const Ed25519KeyPair key_;
  const std::string key_id_;
  const Clock* clock_;
  const absl::Duration ttl_;
};

// Where a verifier finds the public key for a key ID.
class PublicKeySource {
 public:
  virtual ~PublicKeySource() = default;
  // Raw 32-byte Ed25519 key, or NOT_FOUND.
  virtual absl::StatusOr<std::string> Get(absl::string_view key_id) = 0;
};

// A fixed set of keys; for tests and for single-process setups.
class StaticKeySource : public PublicKeySource {
 public:
  void Add(absl::string_view raw_public_key);
  absl::StatusOr<std::string> Get(absl::string_view key_id) override;

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> keys_ ABSL_GUARDED_BY(mu_);
};

// Says whether the claims of a token with a good signature were revoked
// (RevocationList in common/revocation.h, fed over Redis pub/sub).
class RevocationChecker {
 public:
  virtual ~RevocationChecker() = default;
  // OK, or UNAUTHENTICATED naming what was revoked.
  virtual absl::Status Check(const AccessClaims& claims) const = 0;
};

// Verifies tokens locally: signature with the key named by the token,
// audience, expiry and not-yet-valid (issued_at in the future beyond
// `max_clock_skew`) against the injected clock, and revocation. A token whose
// signature verified is kept in a bounded cache, so the hot path is a hash
// lookup, two time comparisons and the revocation lookup; revocation is
// consulted on every call, cache hits included.
//
// With `metrics` set, counts verifications by result
// (updraft_token_verifications_total{audience,result}: ok, expired,
// not_yet_valid, revoked, bad_signature, unknown_key, wrong_audience,
// malformed) and cache use (updraft_token_cache_hits_total and
// updraft_token_cache_misses_total, by audience).
class TokenVerifier {
 public:
  struct Options {
    // Required, like clock; both must outlive the verifier.
    PublicKeySource* keys = nullptr;
    const Clock* clock = nullptr;
    std::string audience;
    // Tokens kept; past it the older half is dropped.
    size_t cache_capacity = 100000;
    // Optional; consulted on every verification.
    const RevocationChecker* revocations = nullptr;
    absl::Duration max_clock_skew = absl::Seconds(30);
    // Optional.
    prometheus::Registry* metrics = nullptr;
  };

  explicit TokenVerifier(Options options);
  TokenVerifier(PublicKeySource* keys, const Clock* clock, std::string audience,
                size_t cache_capacity = 100000);
  // UNAUTHENTICATED with a precise message for any bad token; UNAVAILABLE
  // when the key of a token cannot be fetched.
  absl::StatusOr<AccessClaims> Verify(absl::string_view token);

  const std::string& audience() const { return options_.audience; }

 private:
  enum Result {
    kOk,
    kExpired,
    kNotYetValid,
    kRevoked,
    kBadSignature,
    kUnknownKey,
    kWrongAudience,
    kMalformed,
    kResultCount
  };
  absl::StatusOr<AccessClaims> VerifyUncached(absl::string_view token, Result* result);
  void Count(Result result);

  const Options options_;
  absl::Mutex mu_;
  // Two generations: lookups try both; when `cache_` is full the older one
  // is dropped and `cache_` becomes it, so the cache stays bounded.
  absl::flat_hash_map<std::string, AccessClaims> cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, AccessClaims> old_cache_ ABSL_GUARDED_BY(mu_);
  prometheus::Counter* results_[kResultCount] = {};
  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TOKEN_H_
