#include "services/notifier/notifier_server.h"

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "common/status_util.h"

namespace updraft::notifier {

absl::StatusOr<std::unique_ptr<NotifierServer>> NotifierServer::Create(Options options) {
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           ServerCredentialsFrom(options.tls));
  if (options.pg_uri.empty()) return absl::InvalidArgumentError("pg_uri is required (outbox)");
  std::unique_ptr<NotifierServer> s(new NotifierServer());
  const Clock* clock = options.clock ? options.clock : &s->real_clock_;
  s->logger_ = options.logger;
  s->replica_id_ = absl::BytesToHexString(RandomBytes(8));
  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));
  s->notifier_metrics_ = std::make_unique<NotifierMetrics>(s->metrics_->registry());
  UPDRAFT_ASSIGN_OR_RETURN(s->pg_,
                           PgPool::Create({.uri = options.pg_uri, .size = options.pg_pool_size}));
  UPDRAFT_ASSIGN_OR_RETURN(s->store_, PgOutboxStore::Create(s->pg_.get()));
  UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(options.redis));
  UPDRAFT_ASSIGN_OR_RETURN(s->router_,
                           RedisDeviceRouter::Create({.client = s->redis_.get(),
                                                      .subscriber_connection = options.redis,
                                                      .key_prefix = options.redis_key_prefix,
                                                      .replica_id = s->replica_id_,
                                                      .presence_ttl = options.presence_ttl,
                                                      .hub = &s->hub_,
                                                      .logger = options.logger}));
  if (!options.sendsms_url.empty()) {
    s->sms_ = std::make_unique<KannelSmsGateway>(
        KannelSmsGateway::Options{.sendsms_url = options.sendsms_url,
                                  .username = options.sendsms_username,
                                  .password = options.sendsms_password});
  }
  if (!options.ppg_url.empty()) {
    s->wap_ = std::make_unique<KannelWapPushGateway>(
        KannelWapPushGateway::Options{.ppg_url = options.ppg_url,
                                      .username = options.ppg_username,
                                      .password = options.ppg_password});
  }
  DeliveryWorker::Options worker = options.delivery;
  worker.store = s->store_.get();
  worker.router = s->router_.get();
  worker.sms = s->sms_.get();
  worker.wap = s->wap_.get();
  worker.metrics = s->notifier_metrics_.get();
  worker.clock = clock;
  worker.logger = options.logger;
  worker.wap_href_base = options.wap_href_base;
  UPDRAFT_ASSIGN_OR_RETURN(s->worker_, DeliveryWorker::Create(worker));

  UPDRAFT_ASSIGN_OR_RETURN(s->auth_,
                           ServiceAuth::Create({.auth_address = options.auth_address,
                                                .tls = options.tls,
                                                .redis = options.redis,
                                                .redis_key_prefix = options.redis_key_prefix,
                                                .key_source_override = options.key_source_override,
                                                .clock = clock,
                                                .metrics = &s->metrics_->registry(),
                                                .logger = options.logger}));
  UPDRAFT_ASSIGN_OR_RETURN(s->service_,
                           NotifierService::Create({.store = s->store_.get(),
                                                    .router = s->router_.get(),
                                                    .hub = &s->hub_,
                                                    .worker = s->worker_.get(),
                                                    .metrics = s->notifier_metrics_.get(),
                                                    .clock = clock,
                                                    .logger = options.logger,
                                                    .signing_key_seed = options.signing_key_seed}));
  s->grpc_service_ = std::make_unique<GrpcNotifierService>(
      *s->service_, s->auth_->device_verifier(), *s->notifier_metrics_,
      s->auth_->operator_verifier(), &s->auth_->revocations());
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
  if (options.delivery_poll_interval > absl::ZeroDuration()) {
    NotifierServer* self = s.get();
    absl::Duration poll = options.delivery_poll_interval;
    absl::Duration refresh = options.presence_ttl / 3;
    s->loop_ = std::thread([self, poll, refresh] { self->Loop(poll, refresh); });
  }
  if (options.logger) {
    options.logger->Info("notifier listening",
                         {{"port", std::to_string(s->grpc_->port())}, {"replica", s->replica_id_}});
  }
  return s;
}

absl::StatusOr<DeliveryWorker::PassResult> NotifierServer::RunDeliveryPass() {
  DeliveryWorker::PassResult total;
  while (true) {
    auto r = worker_->RunOnce({});
    if (!r.ok()) return r.status();
    total.claimed += r->claimed;
    total.replicas_reached += r->replicas_reached;
    if (r->claimed == 0) return total;
  }
}

void NotifierServer::Loop(absl::Duration poll, absl::Duration presence_refresh) {
  absl::Time next_refresh = absl::Now() + presence_refresh;
  while (!stop_.WaitForNotificationWithTimeout(poll)) {
    auto r = RunDeliveryPass();
    if (!r.ok() && logger_)
      logger_->Warning("delivery pass failed", {{"error", r.status().ToString()}});
    if (absl::Now() >= next_refresh) {
      absl::Status s = router_->RefreshPresence();
      if (!s.ok() && logger_)
        logger_->Warning("presence refresh failed", {{"error", s.ToString()}});
      next_refresh = absl::Now() + presence_refresh;
    }
  }
}

NotifierServer::~NotifierServer() { Shutdown(); }

void NotifierServer::Shutdown() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (loop_.joinable()) loop_.join();
  hub_.CloseAll();
  if (grpc_) grpc_->Shutdown();
}

}  // namespace updraft::notifier
