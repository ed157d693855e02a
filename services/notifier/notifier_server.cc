#include "services/notifier/notifier_server.h"

#include <algorithm>
#include <thread>

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
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  s->hub_ = std::make_unique<SubscriberHub>(SubscriberHub::Options{
      .queue_capacity = options.stream_queue_capacity,
      .close_when_full = true,
      .fanout_threads = options.fanout_threads >= 0 ? options.fanout_threads : cores - 1});
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
                                                      .hub = s->hub_.get(),
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
                                                    .hub = s->hub_.get(),
                                                    .metrics = s->notifier_metrics_.get(),
                                                    .clock = clock,
                                                    .logger = options.logger,
                                                    .signing_key_seed = options.signing_key_seed}));
  s->grpc_service_ = std::make_unique<GrpcNotifierService>(
      *s->service_, s->auth_->device_verifier(), *s->notifier_metrics_,
      s->auth_->operator_verifier(), &s->auth_->revocations(),
      GrpcNotifierService::Options{.blocking_threads = options.blocking_threads > 0
                                                           ? options.blocking_threads
                                                           : options.pg_pool_size});
  GrpcServer::Options server;
  server.listen_address = options.listen_address;
  server.services = {s->grpc_service_.get()};
  server.metrics = s->metrics_.get();
  server.credentials = std::move(credentials);
  server.int_channel_args = ChannelArgs(options);
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

std::vector<std::pair<std::string, int>> NotifierServer::ChannelArgs(const Options& options) {
  auto ms = [](absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); };
  const Options::Keepalive& k = options.keepalive;
  // Devices hold one stream for hours: accept their keepalive pings (also
  // between calls) no faster than min_device_ping_interval.
  std::vector<std::pair<std::string, int>> args = {
      {GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, ms(k.min_device_ping_interval)},
      {GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2},
      {GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1},
      {GRPC_ARG_KEEPALIVE_TIME_MS, ms(k.server_ping_interval)},
      {GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(k.ping_timeout)},
      {GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms(k.max_connection_idle)},
      {GRPC_ARG_MAX_CONNECTION_AGE_MS, ms(k.max_connection_age)},
      {GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, ms(k.max_connection_age_grace)},
  };
  if (options.lean_connections) {
    args.push_back({GRPC_ARG_ENABLE_CHANNELZ, 0});
    args.push_back({GRPC_ARG_HTTP2_HPACK_TABLE_SIZE_DECODER, 0});
    args.push_back({GRPC_ARG_HTTP2_HPACK_TABLE_SIZE_ENCODER, 0});
  }
  for (const auto& a : options.extra_channel_args) args.push_back(a);
  return args;
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
  const absl::Time start = absl::Now();
  const size_t streams = hub_ ? hub_->size() : 0;
  if (service_) service_->BeginDrain();
  if (hub_) hub_->CloseAll();
  const absl::Time closed = absl::Now();
  if (grpc_) grpc_->Shutdown();
  if (logger_ && streams > 0) {
    logger_->Info("drained",
                  {{"streams", std::to_string(streams)},
                   {"close_ms", std::to_string(absl::ToInt64Milliseconds(closed - start))},
                   {"total_ms", std::to_string(absl::ToInt64Milliseconds(absl::Now() - start))}});
  }
}

}  // namespace updraft::notifier
