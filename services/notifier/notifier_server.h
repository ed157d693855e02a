#ifndef UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_
#define UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/redis_client.h"
#include "common/redis_revocations.h"
#include "common/revocation.h"
#include "common/tls.h"
#include "common/token.h"
#include "services/notifier/grpc_notifier_service.h"
#include "services/notifier/notifier_service.h"
#include "services/notifier/redis_announcement_bus.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

// Everything one notifier process runs, wired from Options: Redis, the
// announcement bus, the hub of IP Push streams, device and operator token
// verification against auth's published keys and auth's revocation feed
// (on the same Redis), and the gRPC server. Used by main.cc and by tests.
class NotifierServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:7404";
    std::string metrics_listen;
    RedisClient::Options redis;
    std::string redis_channel = "updraft:announcements";
    std::string auth_address = "127.0.0.1:7401";
    // Replaces the auth service as source of token keys (tests).
    PublicKeySource* key_source_override = nullptr;
    // TLS of the listener and of the channel to auth; empty: plaintext.
    TlsOptions tls;
    // Prefix of auth's Redis keys and channels (revocations).
    std::string redis_key_prefix = "updraft:";
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
  };
  static absl::StatusOr<std::unique_ptr<NotifierServer>> Create(Options options);
  ~NotifierServer();

  int port() const { return grpc_->port(); }
  int metrics_port() const { return metrics_->port(); }
  size_t connected_devices() const { return hub_.size(); }
  // The revocations this replica enforces.
  RevocationList& revocations() { return *revocations_; }
  // Closes every device stream (devices reconnect elsewhere), then stops.
  void Shutdown();

 private:
  NotifierServer() = default;
  RealClock real_clock_;
  SubscriberHub hub_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisAnnouncementBus> bus_;
  std::unique_ptr<PublicKeySource> keys_;
  std::unique_ptr<RevocationList> revocations_;
  std::unique_ptr<RedisRevocationFeed> revocation_feed_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<TokenVerifier> operator_verifier_;
  std::unique_ptr<NotifierService> service_;
  std::unique_ptr<GrpcNotifierService> grpc_service_;
  std::unique_ptr<GrpcServer> grpc_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVER_H_
