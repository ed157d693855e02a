#include "services/auth/auth_server.h"

#include "absl/strings/str_cat.h"
#include "common/migrations.h"
#include "common/status_util.h"
#include "services/auth/auth_migrations.h"
#include "services/auth/signing_key.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<AuthServer>> AuthServer::Create(Options options) {
  if (options.logger == nullptr) return absl::InvalidArgumentError("AuthServer needs a logger");
  if (options.pg_uri.empty()) return absl::InvalidArgumentError("pg_uri is required");
  if (options.token_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("token_ttl must be positive");
  }
  Logger* logger = options.logger;
  std::unique_ptr<AuthServer> s(new AuthServer());
  const Clock* clock = options.clock != nullptr ? options.clock : &s->real_clock_;

  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key,
                           LoadOrCreateSigningKey(options.signing_key_file, logger));
  s->signer_ = std::make_unique<TokenSigner>(std::move(key), clock, options.token_ttl);
  UPDRAFT_ASSIGN_OR_RETURN(s->pool_,
                           PgPool::Create({.uri = options.pg_uri, .size = options.pg_pool_size}));
  int applied = 0;
  UPDRAFT_RETURN_IF_ERROR(ApplyMigrations(*s->pool_, "auth", AuthMigrations(), &applied));
  if (applied > 0) logger->Info("applied database migrations", {{"count", absl::StrCat(applied)}});
  RedisClient::Options redis;
  redis.host = options.redis_host;
  redis.port = options.redis_port;
  UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(redis));

  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));

  s->registry_ = std::make_unique<PgDeviceRegistry>(s->pool_.get());
  s->challenges_ = std::make_unique<RedisChallengeStore>(
      RedisChallengeStore::Options{s->redis_.get(), options.redis_key_prefix});
  UPDRAFT_ASSIGN_OR_RETURN(s->service_, AuthService::Create({
                                            .registry = s->registry_.get(),
                                            .challenges = s->challenges_.get(),
                                            .clock = clock,
                                            .signer = s->signer_.get(),
                                            .challenge_ttl = options.challenge_ttl,
                                            .metrics = &s->metrics_->registry(),
                                        }));
  s->auth_api_ = std::make_unique<GrpcAuthService>(s->service_.get());
  s->admin_api_ = std::make_unique<GrpcAuthAdminService>(s->service_.get());
  GrpcServer::Options grpc;
  grpc.listen_address = options.listen_address;
  grpc.services = {s->auth_api_.get(), s->admin_api_.get()};
  grpc.metrics = s->metrics_.get();
  UPDRAFT_ASSIGN_OR_RETURN(s->grpc_, GrpcServer::Start(std::move(grpc)));
  logger->Info("token signing key loaded", {{"key_id", s->signer_->key_id()}});
  return s;
}

AuthServer::~AuthServer() { Shutdown(absl::ZeroDuration()); }

void AuthServer::Shutdown(absl::Duration grace) {
  if (grpc_) grpc_->Shutdown(grace);
}

}  // namespace updraft
