#include "services/notifier/notifier_service.h"

#include <algorithm>
#include <climits>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/notification_format.h"
#include "services/notifier/kannel_gateway.h"

namespace updraft::notifier {
namespace {

absl::Status CheckField(absl::string_view name, absl::string_view value, size_t max) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  if (value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is longer than ", max, " bytes"));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(name, " contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DevicePrefs> TargetPrefs(const v1::AnnounceTarget& t, int i) {
  const std::string at = absl::StrCat("targets[", i, "].");
  absl::Status s = CheckField(at + "device_id", t.device_id(), 128);
  if (!s.ok()) return s;
  DevicePrefs p;
  p.device_id = t.device_id();
  if (!t.msisdn().empty()) {
    s = ValidateMsisdn(t.msisdn());
    if (!s.ok()) return absl::InvalidArgumentError(at + std::string(s.message()));
    p.msisdn = t.msisdn();
  }
  absl::flat_hash_set<int> seen;
  for (int c : t.channels()) {
    if (c != v1::CHANNEL_IP_PUSH && c != v1::CHANNEL_SMS && c != v1::CHANNEL_WAP_PUSH) {
      return absl::InvalidArgumentError(at + "channels has an unknown channel");
    }
    if (!seen.insert(c).second) {
      return absl::InvalidArgumentError(at + "channels names a channel twice");
    }
    p.channels.push_back(static_cast<v1::Channel>(c));
  }
  if (t.ack_timeout_seconds() < 0 || t.ack_timeout_seconds() > 86400) {
    return absl::InvalidArgumentError(at + "ack_timeout_seconds must be between 0 and 86400");
  }
  p.ack_timeout = absl::Seconds(t.ack_timeout_seconds());
  return p;
}

absl::Status CheckIdempotencyKey(absl::string_view key) {
  if (key.size() > kMaxIdempotencyKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key is longer than ", kMaxIdempotencyKeyLength, " bytes"));
  }
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("idempotency_key must be printable ASCII (0x21-0x7E)");
    }
  }
  return absl::OkStatus();
}

// Orders `items` as their devices are in `order` (the request's targets).
template <typename T, typename DeviceOf>
void SortByRequest(const absl::flat_hash_map<std::string, int>& order, DeviceOf device_of,
                   std::vector<T>& items) {
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    auto ia = order.find(device_of(a)), ib = order.find(device_of(b));
    return (ia == order.end() ? INT_MAX : ia->second) < (ib == order.end() ? INT_MAX : ib->second);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<NotifierService>> NotifierService::Create(Options options) {
  if (!options.store || !options.router || !options.hub || !options.metrics || !options.clock) {
    return absl::InvalidArgumentError(
        "NotifierService needs a store, a router, a hub, metrics and a clock");
  }
  std::unique_ptr<NotifierService> s(new NotifierService(std::move(options)));
  auto keys =
      s->options_.store->SigningKeys(s->options_.signing_key_seed, s->options_.clock->Now());
  if (!keys.ok()) return keys.status();
  for (const std::string& raw : *keys) {
    auto key = Ed25519KeyPair::FromPrivateKey(raw);
    if (!key.ok()) return key.status();
    s->keys_.push_back(*std::move(key));
  }
  if (s->keys_.empty()) return absl::InternalError("no notification signing key");
  return s;
}

std::vector<std::string> NotifierService::PublicKeys() const {
  std::vector<std::string> out;
  for (const auto& k : keys_) out.push_back(k.public_key());
  return out;
}

absl::StatusOr<v1::AnnounceResponse> NotifierService::Announce(const v1::AnnounceRequest& req) {
  absl::Status s = CheckField("software_name", req.software_name(), 128);
  if (s.ok()) s = CheckField("location", req.location(), 128);
  if (s.ok()) s = CheckField("server_address", req.server_address(), 128);
  if (s.ok()) s = CheckIdempotencyKey(req.idempotency_key());
  if (!s.ok()) return s;
  if (req.ttl_seconds() < 0 || absl::Seconds(req.ttl_seconds()) > options_.max_ttl) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_seconds must be between 0 and ", absl::ToInt64Seconds(options_.max_ttl)));
  }
  std::vector<DevicePrefs> prefs;
  std::vector<std::string> devices;
  absl::flat_hash_set<std::string> unique;
  for (int i = 0; i < req.targets_size(); ++i) {
    auto p = TargetPrefs(req.targets(i), i);
    if (!p.ok()) return p.status();
    if (!unique.insert(p->device_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets[", i, "].device_id ", p->device_id, " is listed twice"));
    }
    devices.push_back(p->device_id);
    prefs.push_back(*std::move(p));
  }
  absl::Duration ttl =
      req.ttl_seconds() == 0 ? options_.default_ttl : absl::Seconds(req.ttl_seconds());
  absl::Time now = options_.clock->Now();
  NotificationFields f;
  f.id = RandomBytes(kNotificationIdSize);
  f.server_address = req.server_address();
  f.software_name = req.software_name();
  f.location = req.location();
  f.timestamp_unix = absl::ToUnixSeconds(now);
  f.expires_at_unix = absl::ToUnixSeconds(now + ttl);
  auto bytes = EncodeNotification(f, keys_.front());
  if (!bytes.ok()) return bytes.status();
  v1::Notification n;
  n.set_notification_id(NotificationIdHex(f.id));
  n.set_server_address(f.server_address);
  n.set_software_name(f.software_name);
  n.set_location(f.location);
  n.set_timestamp_unix(f.timestamp_unix);
  n.set_expires_at_unix(f.expires_at_unix);
  n.set_signed_(*bytes);
  if (!prefs.empty()) {
    s = options_.store->UpsertDevices(prefs);
    if (!s.ok()) return s;
  }
  const absl::Time start = absl::Now();
  auto enqueued_or = options_.store->Enqueue(n, devices, req.idempotency_key(), now,
                                             now + options_.fast_path_lease);
  if (!enqueued_or.ok()) return enqueued_or.status();
  EnqueueResult& result = *enqueued_or;
  const absl::Time enqueued = absl::Now();
  v1::AnnounceResponse resp;
  if (result.stored) resp.set_notification_id(n.notification_id());
  resp.set_devices_targeted(result.queued.size());
  resp.set_devices_already_queued(result.existing.size());
  if (!req.idempotency_key().empty() && !devices.empty()) {
    absl::flat_hash_map<std::string, int> order;
    for (size_t i = 0; i < devices.size(); ++i) order[devices[i]] = static_cast<int>(i);
    SortByRequest(
        order, [](const DevicePrefs& p) -> const std::string& { return p.device_id; },
        result.queued);
    SortByRequest(
        order, [](const OutboxEntry& e) -> const std::string& { return e.device_id; },
        result.existing);
    for (const DevicePrefs& p : result.queued) resp.add_queued_device_ids(p.device_id);
    for (const OutboxEntry& e : result.existing) {
      v1::DeviceNotification* held = resp.add_already_queued();
      held->set_device_id(e.device_id);
      held->set_notification_id(e.notification.notification_id());
    }
  }
  if (result.stored) FastPath(n, result.queued, now, &resp);
  // Entries of an earlier call with the key that nobody tried to deliver yet
  // (that call ended before its fast path): delivered now, same ID.
  std::map<std::string, std::pair<v1::Notification, std::vector<DevicePrefs>>> untried;
  for (const OutboxEntry& e : result.existing) {
    if (e.state != "queued" || e.attempts != 0 || e.channel_index != 0) continue;
    auto& [notification, prefs] = untried[e.notification.notification_id()];
    notification = e.notification;
    prefs.push_back(e.prefs);
  }
  for (const auto& [id, held] : untried) FastPath(held.first, held.second, now, &resp);
  if (options_.logger) {
    options_.logger->Info(
        "announced",
        {{"notification_id", resp.notification_id()},
         {"devices", std::to_string(result.queued.size())},
         {"already_queued", std::to_string(result.existing.size())},
         {"replicas", std::to_string(resp.replicas_reached())},
         {"outbox_ms", std::to_string(absl::ToInt64Milliseconds(enqueued - start))},
         {"total_ms", std::to_string(absl::ToInt64Milliseconds(absl::Now() - start))}});
  }
  return resp;
}

// Durable first (the rows exist), then at once to every device whose first
// channel is IP Push and that holds a stream on some replica: one presence
// lookup, one message per replica, no claim of the rows. Then in one
// transaction the reached rows become sent and the others due for the
// worker (fallback). A crash in between leaves queued rows that the worker
// takes after the lease; a device may then get the notification twice and
// drops the duplicate by ID.
void NotifierService::FastPath(const v1::Notification& n, const std::vector<DevicePrefs>& queued,
                               absl::Time now, v1::AnnounceResponse* resp) {
  std::vector<std::string> ip_first, released;
  for (const DevicePrefs& p : queued) {
    if (p.channels.empty() || p.channels.front() == v1::CHANNEL_IP_PUSH) {
      ip_first.push_back(p.device_id);
    } else {
      released.push_back(p.device_id);
    }
  }
  absl::flat_hash_set<std::string> reached;
  const absl::Time start = absl::Now();
  if (!ip_first.empty()) {
    auto routed = options_.router->Route(ip_first, n);
    if (routed.ok()) {
      resp->set_replicas_reached(std::max<int64_t>(resp->replicas_reached(), routed->replicas));
      reached = std::move(routed->devices);
    } else if (options_.logger) {
      options_.logger->Warning(
          "announcement queued; immediate delivery failed",
          {{"notification_id", n.notification_id()}, {"error", routed.status().ToString()}});
    }
  }
  const absl::Time expires = absl::FromUnixSeconds(n.expires_at_unix());
  std::vector<std::pair<std::string, absl::Time>> sent;
  for (const DevicePrefs& p : queued) {
    if (!reached.contains(p.device_id)) {
      if (p.channels.empty() || p.channels.front() == v1::CHANNEL_IP_PUSH) {
        released.push_back(p.device_id);
      }
      continue;
    }
    sent.push_back({p.device_id, std::min(now + p.ack_timeout, expires)});
    options_.metrics->Count(v1::CHANNEL_IP_PUSH, "sent");
  }
  const absl::Time routed_at = absl::Now();
  absl::Status s = options_.store->FinishFastPath(n.notification_id(), sent, released, now);
  if (options_.logger) {
    options_.logger->Log(
        Logger::Level::kDebug, "fast path",
        {{"route_ms", std::to_string(absl::ToInt64Milliseconds(routed_at - start))},
         {"record_ms", std::to_string(absl::ToInt64Milliseconds(absl::Now() - routed_at))}});
  }
  if (!s.ok() && options_.logger) {
    options_.logger->Warning("announcement delivered; recording it failed (the worker retries)",
                             {{"notification_id", n.notification_id()}, {"error", s.ToString()}});
  }
}

absl::Status NotifierService::Ack(const std::string& device_id,
                                  const std::string& notification_id) {
  absl::Status s = CheckField("notification_id", notification_id, 64);
  if (!s.ok()) return s;
  const absl::Time now = options_.clock->Now();
  auto r = options_.store->Acknowledge(device_id, notification_id, now);
  if (!r.ok()) return r.status();
  if (r->newly_acknowledged) {
    options_.metrics->Count(r->channel, "acknowledged");
    options_.metrics->Latency(r->channel, now - r->created);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Subscription>> NotifierService::OpenStream(
    const std::string& device_id) {
  absl::Status s = options_.store->UpsertDevices({{.device_id = device_id}});
  if (!s.ok()) return s;
  auto sub = options_.hub->Subscribe(device_id);
  s = options_.router->Register(device_id);
  if (!s.ok() && options_.logger) {
    // Presence is rebuilt by the periodic refresh; the stream still works.
    options_.logger->Warning("presence not recorded", {{"error", s.ToString()}});
  }
  auto pending = options_.store->TakePendingFor(device_id, options_.clock->Now());
  if (!pending.ok()) {
    options_.hub->Unsubscribe(sub);
    options_.router->Unregister(device_id);
    return pending.status();
  }
  for (const OutboxEntry& e : *pending) {
    sub->OfferBacklog(PreparedNotification::Make(e.notification));
    options_.metrics->Count(v1::CHANNEL_IP_PUSH, "sent");
  }
  return sub;
}

void NotifierService::CloseStream(const std::shared_ptr<Subscription>& sub) {
  options_.hub->Unsubscribe(sub);
  // While draining, presence is left to expire: a device routed here meanwhile
  // counts as offline (nobody listens on this replica's channel) and falls
  // back, and 15,000 deletes would only slow the drain down.
  if (draining_.load()) return;
  if (!options_.hub->Contains(sub->device_id())) options_.router->Unregister(sub->device_id());
}

std::optional<v1::Notification> NotifierService::NextFor(Subscription& sub,
                                                         absl::Duration timeout) {
  while (true) {
    auto n = sub.Next(timeout);
    if (!n) return std::nullopt;
    if (absl::FromUnixSeconds(n->expires_at_unix()) > options_.clock->Now()) return n;
  }
}

bool NotifierService::Live(const PreparedNotification& n) const {
  return n.expires() > options_.clock->Now();
}

}  // namespace updraft::notifier
