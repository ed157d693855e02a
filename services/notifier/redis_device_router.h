#ifndef UPDRAFT_SERVICES_NOTIFIER_REDIS_DEVICE_ROUTER_H_
#define UPDRAFT_SERVICES_NOTIFIER_REDIS_DEVICE_ROUTER_H_

#include <functional>
#include <memory>
#include <string>

#include "common/logger.h"
#include "common/redis_client.h"
#include "common/redis_subscriber.h"
#include "services/notifier/device_router.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

// DeviceRouter over Redis. Presence: key <prefix>notifier:presence:<device>
// = replica ID, with a TTL, refreshed for every local stream by
// RefreshPresence() (the server calls it every ttl/3), so presence rebuilds
// by itself after Redis lost it. Routing: RoutedNotification messages on
// <prefix>notifier:replica:<replica ID>, one per replica per notification;
// each replica hands what arrives to its hub.
class RedisDeviceRouter : public DeviceRouter {
 public:
  struct Options {
    RedisClient* client = nullptr;
    RedisClient::Options subscriber_connection;
    std::string key_prefix = "updraft:";
    std::string replica_id;
    absl::Duration presence_ttl = absl::Seconds(90);
    SubscriberHub* hub = nullptr;
    Logger* logger = nullptr;
  };
  static absl::StatusOr<std::unique_ptr<RedisDeviceRouter>> Create(Options options);

  absl::Status Register(const std::string& device_id) override;
  void Unregister(const std::string& device_id) override;
  absl::StatusOr<Routed> Route(const std::vector<std::string>& device_ids,
                               const v1::Notification& n) override;
  // Re-writes presence for every stream this replica holds.
  absl::Status RefreshPresence();

 private:
  explicit RedisDeviceRouter(Options options) : options_(std::move(options)) {}
  std::string PresenceKey(const std::string& device_id) const;
  std::string ReplicaChannel(const std::string& replica_id) const;
  void OnMessage(const std::string& message);

  const Options options_;
  std::unique_ptr<RedisSubscriber> subscriber_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_REDIS_DEVICE_ROUTER_H_
