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

namespace updraft {

// Audience of device access tokens, checked by catalog, download and notifier.
inline constexpr absl::string_view kDeviceAudience = "updraft-device";

// What a verified access token says.
struct AccessClaims {
  std::string key_id;
  std::string subject;
  std::string audience;
  std::string token_id;
  absl::Time issued_at;
  absl::Time expires_at;
};

// A token as issued: the string and its expiry.
struct IssuedToken {
  std::string token;
  absl::Time expires_at;
};

// The bytes a device signs to log in: "updraft-login-v1\0" device_id "\0"
// nonce. Shared by auth (verifies) and the device SDK (signs).
std::string LoginMessage(absl::string_view device_id, absl::string_view nonce);

// Key ID of an Ed25519 public key: the first 16 hex digits of its SHA-256.
std::string KeyIdFor(absl::string_view raw_public_key);

// Issues access tokens signed with auth's current key. A token is
// base64url(TokenClaims proto) "." base64url(Ed25519 signature).
class TokenSigner {
 public:
  TokenSigner(Ed25519KeyPair key, const Clock* clock, absl::Duration ttl);
  absl::StatusOr<IssuedToken> Issue(absl::string_view subject, absl::string_view audience) const;
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

// Verifies access tokens locally: signature with the key named by the token,
// expiry against the injected clock, and audience. A verified token is kept
// in a bounded cache so that the hot path skips the signature check.
class TokenVerifier {
 public:
  TokenVerifier(PublicKeySource* keys, const Clock* clock, std::string audience,
                size_t cache_capacity = 100000);
  // UNAUTHENTICATED with a precise message for any bad token.
  absl::StatusOr<AccessClaims> Verify(absl::string_view token);

 private:
  absl::StatusOr<AccessClaims> VerifyUncached(absl::string_view token);

  PublicKeySource* keys_;
  const Clock* clock_;
  const std::string audience_;
  const size_t cache_capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, AccessClaims> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TOKEN_H_
