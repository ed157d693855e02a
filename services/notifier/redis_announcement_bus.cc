#include "services/notifier/redis_announcement_bus.h"

#include "absl/strings/str_cat.h"

namespace updraft::notifier {

absl::StatusOr<std::unique_ptr<RedisAnnouncementBus>> RedisAnnouncementBus::Create(
    Options options) {
  if (options.client == nullptr || options.hub == nullptr) {
    return absl::InvalidArgumentError("RedisAnnouncementBus needs a client and a hub");
  }
  std::unique_ptr<RedisAnnouncementBus> bus(new RedisAnnouncementBus(std::move(options)));
  RedisAnnouncementBus* self = bus.get();
  bus->subscriber_ =
      std::make_unique<RedisSubscriber>(bus->options_.subscriber_connection, bus->options_.channel,
                                        [self](const std::string& m) { self->OnMessage(m); });
  if (!bus->subscriber_->WaitUntilSubscribed(absl::Seconds(10))) {
    return absl::UnavailableError(
        absl::StrCat("cannot subscribe to redis channel ", bus->options_.channel));
  }
  return bus;
}

absl::StatusOr<int64_t> RedisAnnouncementBus::Publish(const v1::Notification& n) {
  return options_.client->Publish(options_.channel, n.SerializeAsString());
}

void RedisAnnouncementBus::OnMessage(const std::string& message) {
  v1::Notification n;
  if (!n.ParseFromString(message) || n.notification_id().empty()) {
    if (options_.logger) options_.logger->Warning("dropped malformed announcement");
    return;
  }
  options_.hub->Broadcast(n);
}

}  // namespace updraft::notifier
