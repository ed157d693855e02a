#ifndef UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_
#define UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/pg_pool.h"
#include "common/redis_client.h"
#include "common/redis_revocations.h"
#include "common/revocation.h"
#include "common/tls.h"
#include "common/token.h"
#include "services/auth/admin_service.h"
#include "services/auth/auth_service.h"
#include "services/auth/caching_device_registry.h"
#include "services/auth/durable_revocation_publisher.h"
#include "services/auth/grpc_auth_admin_service.h"
#include "services/auth/grpc_auth_service.h"
#include "services/auth/pg_api_key_store.h"
#include "services/auth/pg_audit_log.h"
#include "services/auth/pg_device_registry.h"
#include "services/auth/pg_signing_key_store.h"
#include "services/auth/redis_challenge_store.h"
#include "services/auth/redis_rate_limiter.h"
#include "services/auth/signing_key_ring.h"

namespace updraft {

// By default a next challenge outlives the token it came with by this much,
// so a device renewing its token near the expiry still holds one.
inline constexpr absl::Duration kNextChallengeMargin = absl::Minutes(5);

// The auth service wired up: PostgreSQL stores (devices, API keys, signing
// keys, audit; migrations applied at start), Redis challenges, rate limits
// and revocations, the signing key ring (seeded from `signing_key_file` when
// the database has no key, refreshed every `signing_key_refresh_interval`
// so replicas agree), the bootstrap admin key, and a gRPC server carrying
// updraft.v1.Auth and updraft.v1.AuthAdmin plus the /metrics endpoint. Used
// by main.cc and by integration tests.
class AuthServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:7401";
    // Empty: no /metrics endpoint.
    std::string metrics_listen = "127.0.0.1:9401";
    std::string pg_uri;
    int pg_pool_size = 4;
    // Redis connections shared by the RPC threads (challenges, rate limits).
    int redis_connections = 8;
    // How long an accepted device's record is served from memory on the
    // login path; a revocation anywhere still takes effect at once.
    absl::Duration device_cache_ttl = absl::Seconds(2);
    std::string redis_host = "127.0.0.1";
    int redis_port = 63799;
    std::string redis_key_prefix = "updraft:";
    // Seeds the first token signing key when the database has none; created
    // with a fresh key when missing (see LoadOrCreateSigningKey). Required
    // only then.
    std::string signing_key_file;
    absl::Duration token_ttl = absl::Minutes(15);
    absl::Duration challenge_ttl = absl::Seconds(60);
    // Lifetime of the next challenge each Login answer carries (one Redis
    // key per device); 0: none. nullopt: token_ttl + kNextChallengeMargin.
    std::optional<absl::Duration> next_challenge_ttl;
    absl::Duration operator_token_ttl = absl::Minutes(10);
    // A rotated key is published this long before auth signs with it.
    absl::Duration signing_key_activation_delay = absl::Seconds(30);
    absl::Duration signing_key_refresh_interval = absl::Seconds(5);
    // When set: if no valid admin API key exists, one is created and written
    // here (mode 0600); nothing happens when the file holds a valid key.
    std::string bootstrap_admin_key_file;
    // Login rate limits (GetChallenge, Login, OperatorLogin); 0 = none.
    int64_t login_attempts_per_device = 20;
    int64_t login_attempts_per_source = 1000;
    absl::Duration login_rate_window = absl::Minutes(1);
    // TLS of the gRPC listener; empty: plaintext.
    TlsOptions tls;
    // nullptr: the real clock.
    const Clock* clock = nullptr;
    // Required; must outlive the server.
    Logger* logger = nullptr;
  };

  // Fails with the first problem met: bad options or key file, database or
  // Redis unreachable, a migration failing, a port in use.
  static absl::StatusOr<std::unique_ptr<AuthServer>> Create(Options options);
  ~AuthServer();

  int port() const { return grpc_->port(); }
  int metrics_port() const { return metrics_->port(); }
  Metrics& metrics() { return *metrics_; }
  AuthService& service() { return *service_; }
  AdminService& admin() { return *admin_; }
  SigningKeyRing& key_ring() { return *ring_; }
  // Revocations this replica knows (auth's own operator tokens check it).
  RevocationList& revocations() { return *revocation_list_; }
  // Stops accepting RPCs and waits up to `grace` for running ones.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  AuthServer() = default;

  RealClock real_clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<PgAuditLog> audit_;
  std::unique_ptr<PgDeviceRegistry> registry_;
  std::unique_ptr<PgApiKeyStore> api_keys_;
  std::unique_ptr<PgSigningKeyStore> signing_keys_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::unique_ptr<SigningKeyRingSource> ring_source_;
  std::unique_ptr<RedisChallengeStore> challenges_;
  std::unique_ptr<RedisRateLimiter> rate_limiter_;
  std::unique_ptr<RedisRevocationPublisher> revocation_publisher_;
  std::unique_ptr<DurableRevocationPublisher> durable_revocations_;
  std::unique_ptr<RevocationList> revocation_list_;
  std::unique_ptr<CachingDeviceRegistry> device_cache_;
  std::unique_ptr<RedisRevocationFeed> revocation_feed_;
  std::unique_ptr<TokenVerifier> operator_verifier_;
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<GrpcAuthService> auth_api_;
  std::unique_ptr<GrpcAuthAdminService> admin_api_;
  absl::Notification stop_refresh_;
  std::thread refresher_;
  // Last: stopped before anything it serves is destroyed.
  std::unique_ptr<GrpcServer> grpc_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_
