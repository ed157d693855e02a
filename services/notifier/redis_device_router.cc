#include "services/notifier/redis_device_router.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace updraft::notifier {

absl::StatusOr<std::unique_ptr<RedisDeviceRouter>> RedisDeviceRouter::Create(Options options) {
  if (!options.client || !options.hub || options.replica_id.empty()) {
    return absl::InvalidArgumentError("RedisDeviceRouter needs a client, a hub and a replica ID");
  }
  std::unique_ptr<RedisDeviceRouter> r(new RedisDeviceRouter(std::move(options)));
  RedisDeviceRouter* self = r.get();
  r->subscriber_ = std::make_unique<RedisSubscriber>(
      r->options_.subscriber_connection, r->ReplicaChannel(r->options_.replica_id),
      [self](const std::string& m) { self->OnMessage(m); });
  if (!r->subscriber_->WaitUntilSubscribed(absl::Seconds(5))) {
    return absl::UnavailableError("could not subscribe to this replica's Redis channel");
  }
  return r;
}

std::string RedisDeviceRouter::PresenceKey(const std::string& device_id) const {
  return absl::StrCat(options_.key_prefix, "notifier:presence:", device_id);
}

std::string RedisDeviceRouter::ReplicaChannel(const std::string& replica_id) const {
  return absl::StrCat(options_.key_prefix, "notifier:replica:", replica_id);
}

absl::Status RedisDeviceRouter::Register(const std::string& device_id) {
  return options_.client->SetWithTtl(PresenceKey(device_id), options_.replica_id,
                                     options_.presence_ttl);
}

void RedisDeviceRouter::Unregister(const std::string& device_id) {
  // Delete only our own registration: the device may already be elsewhere.
  (void)options_.client->Command(
      {"EVAL",
       "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
       "return 0",
       "1", PresenceKey(device_id), options_.replica_id});
}

absl::Status RedisDeviceRouter::RefreshPresence() {
  for (const std::string& device : options_.hub->Devices()) {
    absl::Status s = Register(device);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<DeviceRouter::Routed> RedisDeviceRouter::Route(
    const std::vector<std::string>& device_ids, const v1::Notification& n) {
  Routed routed;
  if (device_ids.empty()) return routed;
  std::vector<std::string> mget = {"MGET"};
  for (const std::string& d : device_ids) mget.push_back(PresenceKey(d));
  auto reply = options_.client->Command(mget);
  if (!reply.ok()) return reply.status();
  absl::flat_hash_map<std::string, v1::RoutedNotification> by_replica;
  for (size_t i = 0; i < device_ids.size() && i < reply->elements.size(); ++i) {
    const RedisReply& e = reply->elements[i];
    if (e.type != RedisReply::Type::kString || e.str.empty()) continue;
    v1::RoutedNotification& m = by_replica[e.str];
    if (!m.has_notification()) *m.mutable_notification() = n;
    m.add_device_ids(device_ids[i]);
  }
  for (const auto& [replica, message] : by_replica) {
    auto receivers = options_.client->Publish(ReplicaChannel(replica), message.SerializeAsString());
    if (!receivers.ok()) return receivers.status();
    if (*receivers == 0) continue;  // stale presence: that replica is gone
    ++routed.replicas;
    for (const std::string& d : message.device_ids()) routed.devices.insert(d);
  }
  return routed;
}

void RedisDeviceRouter::OnMessage(const std::string& message) {
  v1::RoutedNotification m;
  if (!m.ParseFromString(message) || !m.has_notification()) {
    if (options_.logger) options_.logger->Warning("dropped a malformed routed notification");
    return;
  }
  // Serialised once for every local stream; written from every core.
  const absl::Time start = absl::Now();
  std::vector<std::string> devices(m.device_ids().begin(), m.device_ids().end());
  const int64_t streams = options_.hub->SendToMany(
      devices, PreparedNotification::Make(std::move(*m.mutable_notification())));
  if (options_.logger) {
    options_.logger->Log(Logger::Level::kDebug, "fan-out",
                         {{"devices", std::to_string(devices.size())},
                          {"streams", std::to_string(streams)},
                          {"ms", std::to_string(absl::ToInt64Milliseconds(absl::Now() - start))}});
  }
}

}  // namespace updraft::notifier
