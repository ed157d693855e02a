#include "services/auth/auth_server.h"

#include <algorithm>

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
  const absl::Duration next_challenge_ttl =
      options.next_challenge_ttl.value_or(options.token_ttl + kNextChallengeMargin);
  if (next_challenge_ttl != absl::ZeroDuration() && next_challenge_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("next_challenge_ttl must be 0 (none) or at least 1s");
  }
  Logger* logger = options.logger;
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           ServerCredentialsFrom(options.tls));
  std::unique_ptr<AuthServer> s(new AuthServer());
  const Clock* clock = options.clock != nullptr ? options.clock : &s->real_clock_;

  absl::Duration max_ttl = std::max(options.token_ttl, options.operator_token_ttl);
  UPDRAFT_ASSIGN_OR_RETURN(s->pool_,
                           PgPool::Create({.uri = options.pg_uri, .size = options.pg_pool_size}));
  int applied = 0;
  UPDRAFT_RETURN_IF_ERROR(ApplyMigrations(*s->pool_, "auth", AuthMigrations(), &applied));
  if (applied > 0) logger->Info("applied database migrations", {{"count", absl::StrCat(applied)}});
  RedisClient::Options redis;
  redis.host = options.redis_host;
  redis.port = options.redis_port;
  redis.connections = options.redis_connections;
  UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(redis));

  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));

  s->audit_ = std::make_unique<PgAuditLog>(s->pool_.get());
  s->registry_ = std::make_unique<PgDeviceRegistry>(s->pool_.get());
  s->api_keys_ = std::make_unique<PgApiKeyStore>(s->pool_.get());
  s->signing_keys_ = std::make_unique<PgSigningKeyStore>(s->pool_.get());
  UPDRAFT_ASSIGN_OR_RETURN(
      s->ring_, SigningKeyRing::Create({.store = s->signing_keys_.get(),
                                        .clock = clock,
                                        .token_ttl = options.token_ttl,
                                        .max_token_ttl = max_ttl,
                                        .activation_delay = options.signing_key_activation_delay}));
  if (s->ring_->current_key_id().empty()) {
    UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key,
                             LoadOrCreateSigningKey(options.signing_key_file, logger));
    UPDRAFT_ASSIGN_OR_RETURN(bool seeded, s->ring_->Seed(key, "bootstrap"));
    if (seeded) {
      logger->Info("seeded the token signing keys from the key file",
                   {{"key_id", KeyIdFor(key.public_key())}, {"path", options.signing_key_file}});
    }
  }
  s->ring_source_ = std::make_unique<SigningKeyRingSource>(s->ring_.get());
  s->challenges_ = std::make_unique<RedisChallengeStore>(
      RedisChallengeStore::Options{s->redis_.get(), options.redis_key_prefix});
  s->rate_limiter_ =
      std::make_unique<RedisRateLimiter>(s->redis_.get(), options.redis_key_prefix, clock);
  s->revocation_publisher_ =
      std::make_unique<RedisRevocationPublisher>(s->redis_.get(), options.redis_key_prefix, clock);
  // Stored in PostgreSQL first and republished every 10 s: a Redis that loses
  // its data un-revokes nothing for longer than that.
  UPDRAFT_ASSIGN_OR_RETURN(s->durable_revocations_, DurableRevocationPublisher::Create(
                                                        {.pool = s->pool_.get(),
                                                         .next = s->revocation_publisher_.get(),
                                                         .clock = clock,
                                                         .logger = logger}));
  s->revocation_list_ = std::make_unique<RevocationList>(clock);
  UPDRAFT_ASSIGN_OR_RETURN(s->revocation_feed_,
                           RedisRevocationFeed::Start({.redis = redis,
                                                       .key_prefix = options.redis_key_prefix,
                                                       .list = s->revocation_list_.get(),
                                                       .clock = clock,
                                                       .logger = logger}));
  s->operator_verifier_ = std::make_unique<TokenVerifier>(
      TokenVerifier::Options{.keys = s->ring_source_.get(),
                             .clock = clock,
                             .audience = std::string(kOperatorAudience),
                             .cache_capacity = 10000,
                             .revocations = s->revocation_list_.get(),
                             .metrics = &s->metrics_->registry()});
  s->device_cache_ = std::make_unique<CachingDeviceRegistry>(
      CachingDeviceRegistry::Options{.backend = s->registry_.get(),
                                     .clock = clock,
                                     .revocations = s->revocation_list_.get(),
                                     .ttl = options.device_cache_ttl,
                                     .metrics = &s->metrics_->registry()});
  RateLimit per_device{options.login_attempts_per_device, options.login_rate_window};
  RateLimit per_source{options.login_attempts_per_source, options.login_rate_window};
  UPDRAFT_ASSIGN_OR_RETURN(s->service_, AuthService::Create({
                                            .registry = s->device_cache_.get(),
                                            .challenges = s->challenges_.get(),
                                            .api_keys = s->api_keys_.get(),
                                            .keys = s->ring_.get(),
                                            .clock = clock,
                                            .rate_limiter = s->rate_limiter_.get(),
                                            .per_device = per_device,
                                            .per_source = per_source,
                                            .challenge_ttl = options.challenge_ttl,
                                            .next_challenge_ttl = next_challenge_ttl,
                                            .operator_token_ttl = options.operator_token_ttl,
                                            .metrics = &s->metrics_->registry(),
                                        }));
  UPDRAFT_ASSIGN_OR_RETURN(s->admin_, AdminService::Create({
                                          .registry = s->device_cache_.get(),
                                          .api_keys = s->api_keys_.get(),
                                          .audit = s->audit_.get(),
                                          .keys = s->ring_.get(),
                                          .revocations = s->durable_revocations_.get(),
                                          .clock = clock,
                                          .logger = logger,
                                      }));
  if (!options.bootstrap_admin_key_file.empty()) {
    UPDRAFT_RETURN_IF_ERROR(
        s->admin_->EnsureBootstrapAdminKey(options.bootstrap_admin_key_file).status());
  }
  s->auth_api_ = std::make_unique<GrpcAuthService>(s->service_.get());
  s->admin_api_ =
      std::make_unique<GrpcAuthAdminService>(s->admin_.get(), s->operator_verifier_.get());
  GrpcServer::Options grpc;
  grpc.listen_address = options.listen_address;
  grpc.services = {s->auth_api_.get(), s->admin_api_.get()};
  grpc.metrics = s->metrics_.get();
  grpc.credentials = std::move(credentials);
  UPDRAFT_ASSIGN_OR_RETURN(s->grpc_, GrpcServer::Start(std::move(grpc)));
  logger->Info("token signing key loaded", {{"key_id", s->ring_->current_key_id()}});
  AuthServer* self = s.get();
  absl::Duration interval = options.signing_key_refresh_interval;
  s->refresher_ = std::thread([self, interval, logger] {
    while (!self->stop_refresh_.WaitForNotificationWithTimeout(interval)) {
      absl::Status refreshed = self->ring_->Refresh();
      if (!refreshed.ok()) {
        logger->Warning("cannot refresh the token signing keys", {{"error", refreshed.ToString()}});
      }
    }
  });
  return s;
}

AuthServer::~AuthServer() { Shutdown(absl::ZeroDuration()); }

void AuthServer::Shutdown(absl::Duration grace) {
  if (!stop_refresh_.HasBeenNotified()) stop_refresh_.Notify();
  if (refresher_.joinable()) refresher_.join();
  if (grpc_) grpc_->Shutdown(grace);
}

}  // namespace updraft
