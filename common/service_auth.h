#ifndef UPDRAFT_COMMON_SERVICE_AUTH_H_
#define UPDRAFT_COMMON_SERVICE_AUTH_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/redis_client.h"
#include "common/redis_revocations.h"
#include "common/revocation.h"
#include "common/tls.h"
#include "common/token.h"
#include "prometheus/registry.h"

namespace updraft {

// The token-verification stack of a service other than auth: the token keys
// (auth's GetPublicKeys over a channel to auth, or an override), the
// revocation list kept current from auth's Redis feed (when Redis is
// configured), and one TokenVerifier for device tokens and one for operator
// tokens, both consulting the revocations. Owned by a service's *_server
// wiring class.
class ServiceAuth {
 public:
  struct Options {
    // Where auth's GetPublicKeys is served; unused with key_source_override,
    // required (INVALID_ARGUMENT from MakeChannel) without it.
    std::string auth_address;
    // TLS of the channel to auth; empty: plaintext.
    TlsOptions tls;
    // Redis carrying auth's revocations; unset: revoked tokens stay valid
    // until they expire.
    std::optional<RedisClient::Options> redis;
    std::string redis_key_prefix = "updraft:";
    // When set, token keys come from here instead of auth (tests); must
    // outlive this object.
    PublicKeySource* key_source_override = nullptr;
    // Required, like metrics; both must outlive this object.
    const Clock* clock = nullptr;
    prometheus::Registry* metrics = nullptr;
    // Optional; used by the revocation feed.
    Logger* logger = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<ServiceAuth>> Create(Options options);

  // Verifies device access tokens (kDeviceAudience).
  TokenVerifier& device_verifier() { return *device_verifier_; }
  // Verifies operator tokens (kOperatorAudience).
  TokenVerifier& operator_verifier() { return *operator_verifier_; }
  // The revocations both verifiers enforce.
  RevocationList& revocations() { return *revocations_; }

 private:
  ServiceAuth() = default;

  std::unique_ptr<PublicKeySource> key_source_;
  std::unique_ptr<RevocationList> revocations_;
  std::unique_ptr<RedisRevocationFeed> revocation_feed_;
  std::unique_ptr<TokenVerifier> device_verifier_;
  std::unique_ptr<TokenVerifier> operator_verifier_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_SERVICE_AUTH_H_
