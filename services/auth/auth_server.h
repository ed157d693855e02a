#ifndef UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_
#define UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/pg_pool.h"
#include "common/redis_client.h"
#include "common/token.h"
#include "services/auth/auth_service.h"
#include "services/auth/grpc_auth_service.h"
#include "services/auth/pg_device_registry.h"
#include "services/auth/redis_challenge_store.h"

namespace updraft {

// The auth service wired up: PostgreSQL device registry (migrations applied
// at start), Redis challenge store, token signer with the key from
// `signing_key_file`, and a gRPC server carrying updraft.v1.Auth and
// updraft.v1.AuthAdmin plus the /metrics endpoint. Used by main.cc and by
// integration tests.
class AuthServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:7401";
    // Empty: no /metrics endpoint.
    std::string metrics_listen = "127.0.0.1:9401";
    std::string pg_uri;
    int pg_pool_size = 4;
    std::string redis_host = "127.0.0.1";
    int redis_port = 63799;
    std::string redis_key_prefix = "updraft:";
    // Created with a fresh key when missing (see LoadOrCreateSigningKey).
    std::string signing_key_file;
    absl::Duration token_ttl = absl::Minutes(15);
    absl::Duration challenge_ttl = absl::Seconds(60);
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
  // Stops accepting RPCs and waits up to `grace` for running ones.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  AuthServer() = default;

  RealClock real_clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<PgDeviceRegistry> registry_;
  std::unique_ptr<RedisChallengeStore> challenges_;
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<GrpcAuthService> auth_api_;
  std::unique_ptr<GrpcAuthAdminService> admin_api_;
  // Last: stopped before anything it serves is destroyed.
  std::unique_ptr<GrpcServer> grpc_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_AUTH_SERVER_H_
