#ifndef UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_
#define UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/pg_pool.h"
#include "common/redis_client.h"
#include "common/revocation.h"
#include "common/service_auth.h"
#include "common/tls.h"
#include "common/token.h"
#include "services/notifier/delivery_worker.h"
#include "services/notifier/grpc_notifier_service.h"
#include "services/notifier/kannel_gateway.h"
#include "services/notifier/notifier_metrics.h"
#include "services/notifier/notifier_service.h"
#include "services/notifier/pg_outbox_store.h"
#include "services/notifier/redis_device_router.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

// Everything one notifier replica runs, wired from Options: the PostgreSQL
// outbox, Redis presence and replica routing, the Kannel gateways (SMS
// through smsbox's sendsms, WAP Push through the PPG), the delivery worker
// thread, device and operator token verification against auth's published
// keys and auth's revocation feed, and the gRPC server. Used by main.cc and
// by tests.
class NotifierServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:7404";
    std::string metrics_listen;
    std::string pg_uri;
    int pg_pool_size = 4;
    RedisClient::Options redis;
    // Prefix of Redis keys and channels (auth's revocations, presence,
    // replica channels).
    std::string redis_key_prefix = "updraft:";
    std::string auth_address = "127.0.0.1:7401";
    // Replaces the auth service as source of token keys (tests).
    PublicKeySource* key_source_override = nullptr;
    // TLS of the listener and of the channel to auth; empty: plaintext.
    TlsOptions tls;
    // Kannel; an empty URL disables that channel (it is then skipped).
    std::string sendsms_url;
    std::string sendsms_username;
    std::string sendsms_password;
    std::string ppg_url;
    std::string ppg_username;
    std::string ppg_password;
    std::string wap_href_base = "https://updraft.example/n/";
    // Raw private key seeding the shared notification signing key (file
    // contents); "" = generate one when the database has none.
    std::string signing_key_seed;
    // Delivery worker period; zero: no worker thread (tests run passes).
    absl::Duration delivery_poll_interval = absl::Milliseconds(500);
    absl::Duration presence_ttl = absl::Seconds(90);
    DeliveryWorker::Options delivery;  // backoff and batch settings
    // IP Push streams: notifications waiting per stream before a device that
    // fell behind is disconnected (the outbox re-delivers on reconnect).
    size_t stream_queue_capacity = 16;
    // Threads starting fan-out writes besides the caller; -1: cores - 1.
    int fanout_threads = -1;
    // Threads for blocking work of the gRPC handlers; 0: pg_pool_size.
    int blocking_threads = 0;
    // Keepalive and connection limits for devices on mobile networks,
    // enforced by the server (docs/benchmarks.md, "Notifier tuning").
    struct Keepalive {
      // Devices may ping at most this often while no data flows; faster
      // pingers get GOAWAY (ENHANCE_YOUR_CALM) after two strikes.
      absl::Duration min_device_ping_interval = absl::Minutes(1);
      // The server pings a silent connection this often, and drops it when
      // no answer comes within ping_timeout (dead radio links, NAT loss).
      absl::Duration server_ping_interval = absl::Minutes(10);
      absl::Duration ping_timeout = absl::Seconds(20);
      // A connection without any call (e.g. after a refused Subscribe) is
      // closed after this.
      absl::Duration max_connection_idle = absl::Minutes(5);
      // Connections are recycled after this (+-10% jitter by gRPC), so
      // devices rebalance over replicas; streams get `max_connection_age_grace`.
      absl::Duration max_connection_age = absl::Hours(12);
      absl::Duration max_connection_age_grace = absl::Minutes(1);
    } keepalive;
    // Per-connection memory savers (channelz off, HPACK tables 0); see
    // docs/benchmarks.md for what each buys.
    bool lean_connections = true;
    // More integer channel arguments, applied last (experiments).
    std::vector<std::pair<std::string, int>> extra_channel_args;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
  };
  static absl::StatusOr<std::unique_ptr<NotifierServer>> Create(Options options);
  ~NotifierServer();

  int port() const { return grpc_->port(); }
  int metrics_port() const { return metrics_->port(); }
  size_t connected_devices() const { return hub_->size(); }
  const std::string& replica_id() const { return replica_id_; }
  // The revocations this replica enforces.
  RevocationList& revocations() { return auth_->revocations(); }
  prometheus::Registry& registry() { return metrics_->registry(); }
  // One delivery pass over everything due (what the worker thread does).
  absl::StatusOr<DeliveryWorker::PassResult> RunDeliveryPass();
  // Re-writes presence for every local stream (what the refresh does).
  absl::Status RefreshPresence() { return router_->RefreshPresence(); }
  // Closes every device stream (devices reconnect elsewhere), then stops.
  void Shutdown();
  // The server-side channel arguments `options` asks for (keepalive,
  // connection limits, memory savers).
  static std::vector<std::pair<std::string, int>> ChannelArgs(const Options& options);

 private:
  NotifierServer() = default;
  void Loop(absl::Duration poll, absl::Duration presence_refresh);

  RealClock real_clock_;
  std::string replica_id_;
  Logger* logger_ = nullptr;
  std::unique_ptr<SubscriberHub> hub_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<NotifierMetrics> notifier_metrics_;
  std::unique_ptr<PgPool> pg_;
  std::unique_ptr<PgOutboxStore> store_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisDeviceRouter> router_;
  std::unique_ptr<KannelSmsGateway> sms_;
  std::unique_ptr<KannelWapPushGateway> wap_;
  std::unique_ptr<DeliveryWorker> worker_;
  std::unique_ptr<ServiceAuth> auth_;
  std::unique_ptr<NotifierService> service_;
  std::unique_ptr<GrpcNotifierService> grpc_service_;
  std::unique_ptr<GrpcServer> grpc_;
  absl::Notification stop_;
  std::thread loop_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_
