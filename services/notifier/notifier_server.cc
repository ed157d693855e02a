#include "services/notifier/notifier_server.h"

#include "common/device_auth.h"
#include "common/status_util.h"

namespace updraft::notifier {

absl::StatusOr<std::unique_ptr<NotifierServer>> NotifierServer::Create(Options options) {
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           ServerCredentialsFrom(options.tls));
  std::unique_ptr<NotifierServer> s(new NotifierServer());
  const Clock* clock = options.clock ? options.clock : &s->real_clock_;
  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));
  UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(options.redis));
  RedisAnnouncementBus::Options bus;
  bus.client = s->redis_.get();
  bus.subscriber_connection = options.redis;
  bus.channel = options.redis_channel;
  bus.hub = &s->hub_;
  bus.logger = options.logger;
  UPDRAFT_ASSIGN_OR_RETURN(s->bus_, RedisAnnouncementBus::Create(bus));
  PublicKeySource* keys = options.key_source_override;
  if (keys == nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> auth_channel,
                             MakeChannel(options.auth_address, options.tls));
    s->keys_ = std::make_unique<AuthServiceKeySource>(v1::Auth::NewStub(auth_channel), clock);
    keys = s->keys_.get();
  }
  s->revocations_ = std::make_unique<RevocationList>(clock);
  UPDRAFT_ASSIGN_OR_RETURN(s->revocation_feed_,
                           RedisRevocationFeed::Start({.redis = options.redis,
                                                       .key_prefix = options.redis_key_prefix,
                                                       .list = s->revocations_.get(),
                                                       .clock = clock,
                                                       .logger = options.logger}));
  s->verifier_ = std::make_unique<TokenVerifier>(
      TokenVerifier::Options{.keys = keys,
                             .clock = clock,
                             .audience = std::string(kDeviceAudience),
                             .revocations = s->revocations_.get(),
                             .metrics = &s->metrics_->registry()});
  s->operator_verifier_ = std::make_unique<TokenVerifier>(
      TokenVerifier::Options{.keys = keys,
                             .clock = clock,
                             .audience = std::string(kOperatorAudience),
                             .cache_capacity = 10000,
                             .revocations = s->revocations_.get(),
                             .metrics = &s->metrics_->registry()});
  UPDRAFT_ASSIGN_OR_RETURN(
      s->service_,
      NotifierService::Create({.bus = s->bus_.get(), .hub = &s->hub_, .clock = clock}));
  s->grpc_service_ =
      std::make_unique<GrpcNotifierService>(*s->service_, *s->verifier_, s->metrics_->registry(),
                                            *s->operator_verifier_, s->revocations_.get());
  GrpcServer::Options server;
  server.listen_address = options.listen_address;
  server.services = {s->grpc_service_.get()};
  server.metrics = s->metrics_.get();
  server.credentials = std::move(credentials);
  // Devices keep the stream open for hours; allow their keepalive pings.
  server.int_channel_args = {{GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 60000},
                             {GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1},
                             {GRPC_ARG_KEEPALIVE_TIME_MS, 300000}};
  UPDRAFT_ASSIGN_OR_RETURN(s->grpc_, GrpcServer::Start(server));
  if (options.logger) {
    options.logger->Info("notifier listening", {{"port", std::to_string(s->grpc_->port())}});
  }
  return s;
}

NotifierServer::~NotifierServer() { Shutdown(); }

void NotifierServer::Shutdown() {
  hub_.CloseAll();
  if (grpc_) grpc_->Shutdown();
}

}  // namespace updraft::notifier
