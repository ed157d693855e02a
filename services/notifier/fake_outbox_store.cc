#include "services/notifier/fake_outbox_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace updraft::notifier {
namespace {

bool Pending(const std::string& state) { return state == "queued" || state == "sent"; }

}  // namespace

DevicePrefs FakeOutboxStore::PrefsOf(const std::string& device_id) const {
  auto it = devices_.find(device_id);
  if (it != devices_.end()) return it->second;
  DevicePrefs p;
  p.device_id = device_id;
  p.channels = DefaultChannelOrder();
  p.ack_timeout = absl::Seconds(60);
  return p;
}

OutboxEntry FakeOutboxStore::EntryOf(const Row& row) const {
  OutboxEntry e;
  e.device_id = row.device_id;
  e.notification = announcements_.at(row.notification_id);
  e.state = row.state;
  e.channel_index = row.channel_index;
  e.attempts = row.attempts;
  e.created = row.created;
  e.prefs = PrefsOf(row.device_id);
  return e;
}

absl::Status FakeOutboxStore::UpsertDevices(const std::vector<DevicePrefs>& devices) {
  for (const DevicePrefs& d : devices) {
    if (d.ack_timeout < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ack_timeout of device ", d.device_id, " is negative"));
    }
  }
  absl::MutexLock lock(&mu_);
  for (const DevicePrefs& d : devices) {
    auto [it, added] = devices_.try_emplace(d.device_id, PrefsOf(d.device_id));
    DevicePrefs& stored = it->second;
    if (!d.msisdn.empty()) stored.msisdn = d.msisdn;
    if (!d.channels.empty()) stored.channels = d.channels;
    if (d.ack_timeout > absl::ZeroDuration()) stored.ack_timeout = d.ack_timeout;
  }
  return absl::OkStatus();
}

absl::StatusOr<EnqueueResult> FakeOutboxStore::Enqueue(const v1::Notification& n,
                                                       const std::vector<std::string>& devices,
                                                       const std::string& idempotency_key,
                                                       absl::Time now, absl::Time due) {
  absl::MutexLock lock(&mu_);
  if (announcements_.count(n.notification_id())) {
    return absl::AlreadyExistsError(
        absl::StrCat("notification ", n.notification_id(), " exists already"));
  }
  announcements_[n.notification_id()] = n;
  std::vector<std::string> targets = devices;
  if (targets.empty()) {
    for (const auto& [id, prefs] : devices_) targets.push_back(id);
  }
  EnqueueResult out;
  for (const std::string& device : targets) {
    const Row* held = nullptr;
    if (!idempotency_key.empty()) {
      for (const auto& [key, row] : rows_) {
        if (key.first == device && row.idempotency_key == idempotency_key) held = &row;
      }
    }
    if (held != nullptr) {
      out.existing.push_back(EntryOf(*held));
      continue;
    }
    Row row;
    row.device_id = device;
    row.notification_id = n.notification_id();
    row.idempotency_key = idempotency_key;
    row.next_attempt = due;
    row.created = now;
    row.sequence = next_sequence_++;
    if (!rows_.try_emplace({device, n.notification_id()}, row).second) continue;
    DevicePrefs p = PrefsOf(device);
    p.msisdn.clear();
    out.queued.push_back(std::move(p));
  }
  std::sort(out.existing.begin(), out.existing.end(),
            [](const OutboxEntry& a, const OutboxEntry& b) { return a.device_id < b.device_id; });
  if (!idempotency_key.empty() && out.queued.empty()) {
    announcements_.erase(n.notification_id());
    out.stored = false;
  }
  return out;
}

absl::Status FakeOutboxStore::FinishFastPath(
    const std::string& notification_id, const std::vector<std::pair<std::string, absl::Time>>& sent,
    const std::vector<std::string>& released, absl::Time now) {
  absl::MutexLock lock(&mu_);
  for (const auto& [device, ack_due] : sent) {
    auto it = rows_.find({device, notification_id});
    if (it == rows_.end() || it->second.state != "queued") continue;
    Row& r = it->second;
    r.state = "sent";
    r.channel = "ip_push";
    r.channel_index = 0;
    r.attempts = 0;
    r.next_attempt = ack_due;
  }
  for (const std::string& device : released) {
    auto it = rows_.find({device, notification_id});
    if (it != rows_.end() && it->second.state == "queued") it->second.next_attempt = now;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OutboxEntry>> FakeOutboxStore::ClaimDue(
    absl::Time now, int limit, absl::Duration lease, const std::string& only_notification) {
  absl::MutexLock lock(&mu_);
  std::vector<Row*> due;
  for (auto& [key, row] : rows_) {
    if (!Pending(row.state) || row.next_attempt > now) continue;
    if (!only_notification.empty() && row.notification_id != only_notification) continue;
    due.push_back(&row);
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const Row* a, const Row* b) { return a->next_attempt < b->next_attempt; });
  if (static_cast<int>(due.size()) > limit) due.resize(limit);
  std::sort(due.begin(), due.end(),
            [](const Row* a, const Row* b) { return a->sequence < b->sequence; });
  std::vector<OutboxEntry> out;
  for (Row* row : due) {
    row->next_attempt = now + lease;
    out.push_back(EntryOf(*row));
  }
  return out;
}

absl::StatusOr<std::vector<OutboxEntry>> FakeOutboxStore::TakePendingFor(
    const std::string& device_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<Row*> pending;
  for (auto& [key, row] : rows_) {
    if (row.device_id != device_id) continue;
    if (!Pending(row.state) && row.state != "failed") continue;
    if (absl::FromUnixSeconds(announcements_.at(row.notification_id).expires_at_unix()) <= now) {
      continue;
    }
    pending.push_back(&row);
  }
  std::sort(pending.begin(), pending.end(),
            [](const Row* a, const Row* b) { return a->sequence < b->sequence; });
  std::vector<OutboxEntry> out;
  for (Row* row : pending) {
    out.push_back(EntryOf(*row));
    row->state = "sent";
    row->channel = "ip_push";
    row->next_attempt = now + out.back().prefs.ack_timeout;
  }
  return out;
}

absl::Status FakeOutboxStore::Apply(const std::vector<OutboxUpdate>& updates, absl::Time) {
  absl::MutexLock lock(&mu_);
  for (const OutboxUpdate& u : updates) {
    auto it = rows_.find({u.device_id, u.notification_id});
    if (it == rows_.end() || it->second.state == "acknowledged") continue;
    Row& r = it->second;
    r.state = u.state;
    r.channel_index = u.channel_index;
    r.channel = u.channel == v1::CHANNEL_UNSPECIFIED ? std::string() : ChannelName(u.channel);
    r.attempts = u.attempts;
    r.next_attempt = u.next_attempt;
  }
  return absl::OkStatus();
}

absl::StatusOr<AckResult> FakeOutboxStore::Acknowledge(const std::string& device_id,
                                                       const std::string& notification_id,
                                                       absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find({device_id, notification_id});
  if (it == rows_.end()) {
    return absl::NotFoundError("notification " + notification_id + " was not sent to device " +
                               device_id);
  }
  AckResult result;
  result.channel = ParseChannel(it->second.channel);
  result.created = it->second.created;
  if (it->second.state == "acknowledged") return result;
  it->second.state = "acknowledged";
  result.newly_acknowledged = true;
  return result;
}

absl::StatusOr<std::vector<std::string>> FakeOutboxStore::SigningKeys(const std::string& seed,
                                                                      absl::Time) {
  absl::MutexLock lock(&mu_);
  if (keys_.empty()) {
    auto key = seed.empty() ? Ed25519KeyPair::Generate() : Ed25519KeyPair::FromPrivateKey(seed);
    if (!key.ok()) return key.status();
    keys_.push_back(key->private_key());
  }
  return keys_;
}

std::vector<FakeOutboxStore::Row> FakeOutboxStore::Rows(const std::string& device_id) {
  absl::MutexLock lock(&mu_);
  std::vector<Row> out;
  for (const auto& [key, row] : rows_) {
    if (device_id.empty() || row.device_id == device_id) out.push_back(row);
  }
  std::sort(out.begin(), out.end(),
            [](const Row& a, const Row& b) { return a.sequence < b.sequence; });
  return out;
}

std::vector<std::string> FakeOutboxStore::announcements() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, n] : announcements_) out.push_back(id);
  return out;
}

}  // namespace updraft::notifier
