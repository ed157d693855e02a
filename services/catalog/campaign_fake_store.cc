#include "services/catalog/campaign_fake_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft::catalog {
namespace {

using Webhooks = std::map<std::string, std::pair<v1::Webhook, std::string>>;

int64_t AddEventTo(FakeCampaignStore::State& s, const Webhooks& webhooks, v1::CampaignEvent e,
                   absl::Time now) {
  e.set_event_id(s.next_event_id++);
  for (const auto& [id, w] : webhooks) {
    if (!w.first.campaign_id().empty() && w.first.campaign_id() != e.campaign_id()) continue;
    FakeCampaignStore::Delivery d;
    d.webhook_id = id;
    d.event_id = e.event_id();
    d.next_attempt_at = now;
    s.deliveries[s.next_delivery_id++] = d;
  }
  s.events.push_back(e);
  return e.event_id();
}

class FakeTxn : public CampaignTxn {
 public:
  FakeTxn(FakeCampaignStore::State& s, const Webhooks& webhooks, const std::string& id)
      : s_(s), webhooks_(webhooks), id_(id), devices_(s.devices[id]) {}

  const v1::Campaign& campaign() const override { return s_.campaigns.at(id_); }
  absl::Status Save(const v1::Campaign& c) override {
    v1::Campaign& stored = s_.campaigns.at(id_);
    stored.set_state(c.state());
    stored.set_state_reason(c.state_reason());
    stored.set_current_wave(c.current_wave());
    stored.set_updated_at_unix(c.updated_at_unix());
    return absl::OkStatus();
  }
  absl::StatusOr<CampaignCounts> Counts() override {
    CampaignCounts counts;
    for (const auto& [id, d] : devices_) counts[d.wave][d.state]++;
    return counts;
  }
  absl::StatusOr<int> AddDevices(const std::vector<NewCampaignDevice>& devices, int wave,
                                 v1::CampaignDeviceState state, absl::Time now) override {
    int added = 0;
    for (const NewCampaignDevice& n : devices) {
      if (devices_.count(n.device_id)) continue;
      FakeCampaignStore::Device d;
      d.wave = wave;
      d.state = state;
      d.rank = n.rank;
      d.notify_at = now;
      d.updated_at = now;
      devices_[n.device_id] = d;
      ++added;
    }
    return added;
  }
  absl::StatusOr<std::vector<std::string>> Queued(int limit) override {
    std::vector<std::pair<int64_t, std::string>> q;
    for (const auto& [id, d] : devices_) {
      if (d.wave == 0 && d.state == v1::CAMPAIGN_DEVICE_QUEUED) q.emplace_back(d.rank, id);
    }
    std::sort(q.begin(), q.end());
    std::vector<std::string> out;
    for (int i = 0; i < limit && i < static_cast<int>(q.size()); ++i) out.push_back(q[i].second);
    return out;
  }
  absl::Status StartDevices(const std::vector<std::pair<std::string, absl::Time>>& devices,
                            int wave, absl::Time now) override {
    for (const auto& [id, at] : devices) {
      auto& d = devices_.at(id);
      if (d.wave != 0 || d.state != v1::CAMPAIGN_DEVICE_QUEUED) continue;
      d.wave = wave;
      d.state = v1::CAMPAIGN_DEVICE_PENDING;
      d.notify_at = at;
      d.updated_at = now;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<DueDevice>> Due(absl::Time now, int limit) override {
    std::vector<std::pair<absl::Time, std::string>> due;
    for (const auto& [id, d] : devices_) {
      if (d.state == v1::CAMPAIGN_DEVICE_PENDING && d.notify_at <= now) {
        due.emplace_back(d.notify_at, id);
      }
    }
    std::sort(due.begin(), due.end());
    std::vector<DueDevice> out;
    for (int i = 0; i < limit && i < static_cast<int>(due.size()); ++i) {
      const FakeCampaignStore::Device& d = devices_.at(due[i].second);
      out.push_back({due[i].second, d.wave, TimeZone(due[i].second), d.attempts});
    }
    return out;
  }
  absl::Status Defer(const std::vector<std::pair<std::string, absl::Time>>& devices) override {
    for (const auto& [id, at] : devices) devices_.at(id).notify_at = at;
    return absl::OkStatus();
  }
  absl::Status MarkNotified(const std::vector<std::string>& ids, absl::Time now) override {
    for (const std::string& id : ids) {
      auto& d = devices_.at(id);
      if (d.state != v1::CAMPAIGN_DEVICE_PENDING) continue;
      d.state = v1::CAMPAIGN_DEVICE_NOTIFIED;
      d.updated_at = now;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<DueDevice>> Retry(int max_attempts, absl::Time failed_before,
                                               absl::Time now) override {
    std::vector<DueDevice> out;
    for (auto& [id, d] : devices_) {
      if (d.state != v1::CAMPAIGN_DEVICE_FAILED || d.wave == 0 || d.attempts >= max_attempts ||
          d.updated_at > failed_before) {
        continue;
      }
      d.state = v1::CAMPAIGN_DEVICE_PENDING;
      d.attempts++;
      d.notify_at = now;
      d.updated_at = now;
      out.push_back({id, d.wave, "", d.attempts});
    }
    return out;
  }
  absl::Status AddEvent(const v1::CampaignEvent& event, absl::Time now) override {
    AddEventTo(s_, webhooks_, event, now);
    return absl::OkStatus();
  }

  std::function<std::string(const std::string&)> time_zone_of;

 private:
  std::string TimeZone(const std::string& id) { return time_zone_of ? time_zone_of(id) : ""; }

  FakeCampaignStore::State& s_;
  const Webhooks& webhooks_;
  std::string id_;
  std::map<std::string, FakeCampaignStore::Device>& devices_;
};

}  // namespace

void FakeCampaignStore::AddRelease(const std::string& release_id) {
  absl::MutexLock l(&mu_);
  releases_.insert(release_id);
}

void FakeCampaignStore::Lock(const std::string& id) {
  absl::MutexLock l(&mu_);
  locked_.insert(id);
}

void FakeCampaignStore::Unlock(const std::string& id) {
  absl::MutexLock l(&mu_);
  locked_.erase(id);
}

FakeCampaignStore::Device FakeCampaignStore::GetDevice(const std::string& campaign_id,
                                                       const std::string& device_id) {
  absl::MutexLock l(&mu_);
  auto c = state_.devices.find(campaign_id);
  if (c == state_.devices.end()) return Device{.state = v1::CAMPAIGN_DEVICE_STATE_UNSPECIFIED};
  auto d = c->second.find(device_id);
  if (d == c->second.end()) return Device{.state = v1::CAMPAIGN_DEVICE_STATE_UNSPECIFIED};
  return d->second;
}

std::vector<FakeCampaignStore::Delivery> FakeCampaignStore::deliveries() {
  absl::MutexLock l(&mu_);
  std::vector<Delivery> out;
  for (const auto& [id, d] : state_.deliveries) out.push_back(d);
  return out;
}

absl::Status FakeCampaignStore::Create(const v1::Campaign& c, const v1::CampaignEvent& created,
                                       absl::Time now) {
  absl::MutexLock l(&mu_);
  if (!releases_.count(c.spec().release_id())) {
    return absl::NotFoundError(absl::StrCat("release ", c.spec().release_id(), " not found"));
  }
  if (state_.campaigns.count(c.campaign_id())) {
    return absl::AlreadyExistsError(absl::StrCat("campaign ", c.campaign_id(), " exists"));
  }
  state_.campaigns[c.campaign_id()] = c;
  AddEventTo(state_, webhooks_, created, now);
  return absl::OkStatus();
}

absl::StatusOr<v1::Campaign> FakeCampaignStore::Get(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto it = state_.campaigns.find(id);
  if (it == state_.campaigns.end()) {
    return absl::NotFoundError(absl::StrCat("campaign ", id, " not found"));
  }
  return it->second;
}

absl::StatusOr<CampaignCounts> FakeCampaignStore::Counts(const std::string& id) {
  absl::MutexLock l(&mu_);
  CampaignCounts counts;
  for (const auto& [device, d] : state_.devices[id]) counts[d.wave][d.state]++;
  return counts;
}

absl::StatusOr<std::vector<ListedCampaign>> FakeCampaignStore::List(const std::string& after,
                                                                    int limit) {
  std::vector<ListedCampaign> out;
  {
    absl::MutexLock l(&mu_);
    for (auto it = state_.campaigns.upper_bound(after);
         it != state_.campaigns.end() && static_cast<int>(out.size()) < limit; ++it) {
      out.push_back({it->second, {}});
    }
  }
  for (ListedCampaign& c : out) {
    UPDRAFT_ASSIGN_OR_RETURN(c.counts, Counts(c.campaign.campaign_id()));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FakeCampaignStore::Running() {
  absl::MutexLock l(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, c] : state_.campaigns) {
    if (c.state() == v1::CAMPAIGN_RUNNING) out.push_back(id);
  }
  return out;
}

absl::StatusOr<ActiveReleaseSet> FakeCampaignStore::ActiveReleases() {
  absl::MutexLock l(&mu_);
  ActiveReleaseSet out;
  for (const auto& [id, c] : state_.campaigns) {
    if (c.state() == v1::CAMPAIGN_RUNNING || c.state() == v1::CAMPAIGN_PAUSED) {
      out.all.push_back(c.spec().release_id());
      if (c.spec().gate_offers()) out.gated.push_back(c.spec().release_id());
    }
  }
  return out;
}

absl::StatusOr<bool> FakeCampaignStore::InStartedWave(const std::string& device_id,
                                                      const std::string& release_id) {
  absl::MutexLock l(&mu_);
  for (const auto& [id, c] : state_.campaigns) {
    if (c.spec().release_id() != release_id ||
        (c.state() != v1::CAMPAIGN_RUNNING && c.state() != v1::CAMPAIGN_PAUSED)) {
      continue;
    }
    auto devices = state_.devices.find(id);
    if (devices == state_.devices.end()) continue;
    auto d = devices->second.find(device_id);
    if (d != devices->second.end() && d->second.state != v1::CAMPAIGN_DEVICE_QUEUED) return true;
  }
  return false;
}

absl::StatusOr<bool> FakeCampaignStore::WithCampaign(
    const std::string& id, bool wait, const std::function<absl::Status(CampaignTxn&)>& fn) {
  State copy;
  Webhooks webhooks;
  {
    absl::MutexLock l(&mu_);
    if (!state_.campaigns.count(id)) {
      return absl::NotFoundError(absl::StrCat("campaign ", id, " not found"));
    }
    if (locked_.count(id)) {
      if (!wait) return false;
      return absl::DeadlineExceededError(absl::StrCat("campaign ", id, " is locked"));
    }
    locked_.insert(id);
    copy = state_;
    webhooks = webhooks_;
  }
  // `fn` runs unlocked (it may call the store's other methods, as it may
  // open other transactions in PostgreSQL); single-threaded tests only.
  FakeTxn txn(copy, webhooks, id);
  txn.time_zone_of = [this](const std::string& device) -> std::string {
    absl::MutexLock l(&mu_);
    auto it = attributes_.find(device);
    return it == attributes_.end() ? "" : it->second.time_zone();
  };
  absl::Status s = fn(txn);
  absl::MutexLock l(&mu_);
  locked_.erase(id);
  if (!s.ok()) return s;
  state_ = std::move(copy);
  return true;
}

absl::StatusOr<OutcomeResult> FakeCampaignStore::RecordOutcome(
    const std::string& device_id, const std::vector<std::string>& release_ids,
    const std::vector<v1::CampaignDeviceState>& from, v1::CampaignDeviceState to,
    v1::CampaignEventType type, v1::ResultCode result, absl::Time now) {
  absl::MutexLock l(&mu_);
  ++outcome_calls_;
  OutcomeResult out;
  for (auto& [id, c] : state_.campaigns) {
    if (std::find(release_ids.begin(), release_ids.end(), c.spec().release_id()) ==
            release_ids.end() ||
        (c.state() != v1::CAMPAIGN_RUNNING && c.state() != v1::CAMPAIGN_PAUSED)) {
      continue;
    }
    auto d = state_.devices[id].find(device_id);
    if (d == state_.devices[id].end() ||
        std::find(from.begin(), from.end(), d->second.state) == from.end()) {
      continue;
    }
    d->second.state = to;
    d->second.last_result = result;
    d->second.updated_at = now;
    v1::CampaignEvent e;
    e.set_campaign_id(id);
    e.set_type(type);
    e.set_device_id(device_id);
    e.set_wave(d->second.wave);
    e.set_result(result);
    e.set_at_unix(absl::ToUnixSeconds(now));
    e.set_event_id(AddEventTo(state_, webhooks_, e, now));
    out.events.push_back(e);
  }
  return out;
}

absl::StatusOr<std::vector<v1::CampaignEvent>> FakeCampaignStore::Events(const std::string& id,
                                                                         int64_t after, int limit,
                                                                         int64_t* settled_through) {
  absl::MutexLock l(&mu_);
  std::vector<v1::CampaignEvent> out;
  if (settled_through != nullptr) *settled_through = after;
  for (const v1::CampaignEvent& e : state_.events) {
    if (e.campaign_id() == id && e.event_id() > after && static_cast<int>(out.size()) < limit) {
      out.push_back(e);
      if (settled_through != nullptr) *settled_through = e.event_id();
    }
  }
  return out;
}

absl::Status FakeCampaignStore::PutAttributes(const std::string& device_id,
                                              const v1::DeviceAttributes& a, absl::Time) {
  absl::MutexLock l(&mu_);
  attributes_[device_id] = a;
  ++attribute_writes_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DeviceAttributeRow>> FakeCampaignStore::MatchAttributes(
    const std::vector<std::string>& models, const std::vector<std::string>& carriers,
    const std::string& after, int limit) {
  absl::MutexLock l(&mu_);
  std::vector<DeviceAttributeRow> out;
  for (auto it = attributes_.upper_bound(after);
       it != attributes_.end() && static_cast<int>(out.size()) < limit; ++it) {
    const v1::DeviceAttributes& a = it->second;
    if (!models.empty() && std::find(models.begin(), models.end(), a.model()) == models.end()) {
      continue;
    }
    if (!carriers.empty() &&
        std::find(carriers.begin(), carriers.end(), a.carrier()) == carriers.end()) {
      continue;
    }
    out.push_back({it->first, a.os_version()});
  }
  return out;
}

absl::Status FakeCampaignStore::CreateWebhook(const v1::Webhook& w, const std::string& secret) {
  absl::MutexLock l(&mu_);
  webhooks_[w.webhook_id()] = {w, secret};
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Webhook>> FakeCampaignStore::ListWebhooks() {
  absl::MutexLock l(&mu_);
  std::vector<v1::Webhook> out;
  for (const auto& [id, w] : webhooks_) out.push_back(w.first);
  return out;
}

absl::Status FakeCampaignStore::DeleteWebhook(const std::string& id) {
  absl::MutexLock l(&mu_);
  if (webhooks_.erase(id) == 0)
    return absl::NotFoundError(absl::StrCat("webhook ", id, " not found"));
  for (auto it = state_.deliveries.begin(); it != state_.deliveries.end();) {
    it = it->second.webhook_id == id ? state_.deliveries.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WebhookDelivery>> FakeCampaignStore::ClaimDeliveries(
    absl::Time now, absl::Time lease_until, int limit) {
  absl::MutexLock l(&mu_);
  std::vector<WebhookDelivery> out;
  for (auto& [id, d] : state_.deliveries) {
    if (static_cast<int>(out.size()) >= limit) break;
    if (d.delivered || d.gave_up || d.next_attempt_at > now) continue;
    d.next_attempt_at = lease_until;
    WebhookDelivery w;
    w.delivery_id = id;
    w.attempts = d.attempts;
    w.url = webhooks_.at(d.webhook_id).first.url();
    w.secret = webhooks_.at(d.webhook_id).second;
    for (const v1::CampaignEvent& e : state_.events) {
      if (e.event_id() == d.event_id) w.event = e;
    }
    out.push_back(std::move(w));
  }
  return out;
}

absl::Status FakeCampaignStore::FinishDelivery(int64_t id, bool delivered, bool give_up,
                                               absl::Time next_at, const std::string& error,
                                               absl::Time) {
  absl::MutexLock l(&mu_);
  Delivery& d = state_.deliveries.at(id);
  d.attempts++;
  d.delivered = delivered;
  d.gave_up = give_up;
  d.next_attempt_at = next_at;
  d.last_error = error;
  return absl::OkStatus();
}

}  // namespace updraft::catalog
