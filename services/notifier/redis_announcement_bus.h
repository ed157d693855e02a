#ifndef UPDRAFT_SERVICES_NOTIFIER_REDIS_ANNOUNCEMENT_BUS_H_
#define UPDRAFT_SERVICES_NOTIFIER_REDIS_ANNOUNCEMENT_BUS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/logger.h"
#include "common/redis_client.h"
#include "common/redis_subscriber.h"
#include "services/notifier/announcement_bus.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

// AnnouncementBus over Redis pub/sub: Publish() sends the serialized
// notification on `channel`; every replica's subscriber parses what arrives
// and broadcasts it to its local hub. Malformed messages are logged and
// dropped.
class RedisAnnouncementBus : public AnnouncementBus {
 public:
  struct Options {
    RedisClient* client = nullptr;
    RedisClient::Options subscriber_connection;
    std::string channel = "updraft:announcements";
    SubscriberHub* hub = nullptr;
    Logger* logger = nullptr;
  };
  static absl::StatusOr<std::unique_ptr<RedisAnnouncementBus>> Create(Options options);

  absl::StatusOr<int64_t> Publish(const v1::Notification& n) override;

 private:
  explicit RedisAnnouncementBus(Options options) : options_(std::move(options)) {}
  void OnMessage(const std::string& message);

  const Options options_;
  std::unique_ptr<RedisSubscriber> subscriber_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_REDIS_ANNOUNCEMENT_BUS_H_
