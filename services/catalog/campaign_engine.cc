#include "services/catalog/campaign_engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/semver.h"
#include "common/status_util.h"
#include "services/catalog/campaign_validation.h"
#include "services/catalog/update_decider.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr int kResolvePage = 1000;
constexpr int kMaxAnnounceBatchesPerTick = 50;
constexpr size_t kMaxAttributeFingerprints = 200000;

using DS = v1::CampaignDeviceState;

int64_t Sum(const std::map<DS, int64_t>& states) {
  int64_t n = 0;
  for (const auto& [state, count] : states) n += count;
  return n;
}

int64_t Get(const CampaignCounts& counts, int wave, DS state) {
  auto w = counts.find(wave);
  if (w == counts.end()) return 0;
  auto s = w->second.find(state);
  return s == w->second.end() ? 0 : s->second;
}

absl::Duration Ttl(const v1::CampaignSpec& spec) {
  return spec.ttl_seconds() > 0 ? absl::Seconds(spec.ttl_seconds()) : kDefaultCampaignTtl;
}

v1::CampaignEvent Event(const v1::Campaign& c, v1::CampaignEventType type, absl::Time now) {
  v1::CampaignEvent e;
  e.set_campaign_id(c.campaign_id());
  e.set_type(type);
  e.set_wave(c.current_wave());
  e.set_at_unix(absl::ToUnixSeconds(now));
  return e;
}

bool IsFinal(v1::CampaignState s) {
  return s == v1::CAMPAIGN_CANCELLED || s == v1::CAMPAIGN_COMPLETED || s == v1::CAMPAIGN_EXPIRED;
}

}  // namespace

std::string CampaignAnnouncementKey(const std::string& campaign_id, int wave, int attempt) {
  return absl::StrCat("campaign/", campaign_id, "/wave/", wave, "/attempt/", attempt);
}

void FillProgress(const CampaignCounts& counts, v1::Campaign* c) {
  c->clear_waves();
  c->set_queued_devices(Get(counts, 0, v1::CAMPAIGN_DEVICE_QUEUED));
  c->set_installed_outside_waves(Get(counts, 0, v1::CAMPAIGN_DEVICE_INSTALLED));
  for (int w = 1; w <= c->spec().waves_size(); ++w) {
    v1::WaveProgress* p = c->add_waves();
    p->set_wave(w);
    auto it = counts.find(w);
    if (it != counts.end()) p->set_devices(Sum(it->second));
    p->set_pending(Get(counts, w, v1::CAMPAIGN_DEVICE_PENDING));
    p->set_notified(Get(counts, w, v1::CAMPAIGN_DEVICE_NOTIFIED));
    p->set_downloading(Get(counts, w, v1::CAMPAIGN_DEVICE_DOWNLOADING));
    p->set_installed(Get(counts, w, v1::CAMPAIGN_DEVICE_INSTALLED));
    p->set_failed(Get(counts, w, v1::CAMPAIGN_DEVICE_FAILED));
  }
}

absl::StatusOr<std::unique_ptr<CampaignEngine>> CampaignEngine::Create(Options options) {
  if (options.store == nullptr || options.catalog == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("CampaignEngine needs a store, a catalog store and a clock");
  }
  if (options.announce_batch < 1) {
    return absl::InvalidArgumentError("CampaignEngine announce_batch must be positive");
  }
  if (!options.random) {
    options.random = [] {
      std::string b = RandomBytes(8);
      uint64_t v = 0;
      for (unsigned char ch : b) v = (v << 8) | ch;
      return v;
    };
  }
  return std::unique_ptr<CampaignEngine>(new CampaignEngine(std::move(options)));
}

absl::StatusOr<v1::Campaign> CampaignEngine::CreateCampaign(
    const v1::CreateCampaignRequest& request, const std::string& created_by) {
  const v1::CampaignSpec& spec = request.spec();
  UPDRAFT_RETURN_IF_ERROR(ValidateCampaignSpec(spec));
  if (spec.targets().groups_size() > 0 && options_.groups == nullptr) {
    return absl::FailedPreconditionError("this catalog keeps no device groups");
  }
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, options_.catalog->GetRelease(spec.release_id()));
  if (release.state() != v1::PUBLISHED) {
    return absl::FailedPreconditionError(absl::StrCat("release ", spec.release_id(), " is ",
                                                      v1::ReleaseState_Name(release.state()),
                                                      "; a campaign needs a PUBLISHED release"));
  }
  const absl::Time now = options_.clock->Now();
  v1::Campaign c;
  c.set_campaign_id(absl::StrFormat("cmp_%016x", options_.random()));
  *c.mutable_spec() = spec;
  c.set_state(v1::CAMPAIGN_RUNNING);
  c.set_created_at_unix(absl::ToUnixSeconds(now));
  c.set_updated_at_unix(absl::ToUnixSeconds(now));
  c.set_created_by(created_by);
  c.set_software_name(absl::StrCat(release.package_name(), " ", release.version()));
  v1::CampaignEvent created = Event(c, v1::CAMPAIGN_EVENT_CREATED, now);
  created.set_message(absl::StrCat("created by ", created_by));
  UPDRAFT_RETURN_IF_ERROR(options_.store->Create(c, created, now));
  {
    absl::MutexLock lock(&mu_);
    if (active_releases_.has_value()) active_releases_->insert(spec.release_id());
    if (spec.gate_offers()) gated_releases_.insert(spec.release_id());
  }
  // The target set is looked up at once, so that devices reporting before
  // the first step count; a failure here is retried by the next step.
  auto resolved = options_.store->WithCampaign(c.campaign_id(), true,
                                               [&](CampaignTxn& txn) { return Resolve(txn, now); });
  if (!resolved.ok()) Log("campaign targets not resolved yet", c.campaign_id(), resolved.status());
  auto counts = options_.store->Counts(c.campaign_id());
  FillProgress(counts.ok() ? *counts : CampaignCounts(), &c);
  if (options_.metrics != nullptr) options_.metrics->Update(c);
  return c;
}

absl::StatusOr<v1::Campaign> CampaignEngine::GetCampaign(const std::string& campaign_id) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("campaign_id", campaign_id, kMaxIdLength));
  UPDRAFT_ASSIGN_OR_RETURN(v1::Campaign c, options_.store->Get(campaign_id));
  UPDRAFT_ASSIGN_OR_RETURN(CampaignCounts counts, options_.store->Counts(campaign_id));
  FillProgress(counts, &c);
  return c;
}

absl::StatusOr<v1::ListCampaignsResponse> CampaignEngine::ListCampaigns(
    const v1::ListCampaignsRequest& request) {
  if (!request.after_campaign_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(
        ValidateIdentifier("after_campaign_id", request.after_campaign_id(), kMaxIdLength));
  }
  if (request.limit() < 0 || request.limit() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be between 0 and 1000, got ", request.limit()));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<v1::Campaign> list,
                           options_.store->List(request.after_campaign_id(),
                                                request.limit() == 0 ? 100 : request.limit()));
  v1::ListCampaignsResponse response;
  for (v1::Campaign& c : list) {
    UPDRAFT_ASSIGN_OR_RETURN(CampaignCounts counts, options_.store->Counts(c.campaign_id()));
    FillProgress(counts, &c);
    *response.add_campaigns() = std::move(c);
  }
  return response;
}

absl::StatusOr<v1::Campaign> CampaignEngine::Act(
    const v1::CampaignActionRequest& request, const std::function<absl::Status(CampaignTxn&)>& fn) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("campaign_id", request.campaign_id(), kMaxIdLength));
  UPDRAFT_RETURN_IF_ERROR(ValidateText("reason", request.reason(), 512, false));
  UPDRAFT_RETURN_IF_ERROR(options_.store->WithCampaign(request.campaign_id(), true, fn).status());
  UPDRAFT_ASSIGN_OR_RETURN(v1::Campaign c, GetCampaign(request.campaign_id()));
  if (options_.metrics != nullptr) options_.metrics->Update(c);
  return c;
}

absl::StatusOr<v1::Campaign> CampaignEngine::Pause(const v1::CampaignActionRequest& request,
                                                   const std::string& who) {
  return Act(request, [&](CampaignTxn& txn) {
    v1::Campaign c = txn.campaign();
    if (c.state() != v1::CAMPAIGN_RUNNING) {
      return absl::FailedPreconditionError(absl::StrCat("campaign ", c.campaign_id(), " is ",
                                                        v1::CampaignState_Name(c.state()),
                                                        "; only a running campaign can be paused"));
    }
    std::string reason = absl::StrCat("paused by ", who);
    if (!request.reason().empty()) absl::StrAppend(&reason, ": ", request.reason());
    return SetState(txn, c, v1::CAMPAIGN_PAUSED, v1::CAMPAIGN_EVENT_PAUSED, reason,
                    options_.clock->Now());
  });
}

absl::StatusOr<v1::Campaign> CampaignEngine::Resume(const v1::CampaignActionRequest& request,
                                                    const std::string& who) {
  return Act(request, [&](CampaignTxn& txn) -> absl::Status {
    v1::Campaign c = txn.campaign();
    if (c.state() != v1::CAMPAIGN_PAUSED) {
      return absl::FailedPreconditionError(absl::StrCat("campaign ", c.campaign_id(), " is ",
                                                        v1::CampaignState_Name(c.state()),
                                                        "; only a paused campaign can be resumed"));
    }
    const absl::Time now = options_.clock->Now();
    std::string reason = absl::StrCat("resumed by ", who);
    if (!request.reason().empty()) absl::StrAppend(&reason, ": ", request.reason());
    UPDRAFT_RETURN_IF_ERROR(
        SetState(txn, c, v1::CAMPAIGN_RUNNING, v1::CAMPAIGN_EVENT_RESUMED, reason, now));
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<DueDevice> retried,
                             txn.Retry(std::numeric_limits<int>::max(), now, now));
    for (const DueDevice& d : retried) {
      v1::CampaignEvent e = Event(c, v1::CAMPAIGN_EVENT_DEVICE_RETRY, now);
      e.set_device_id(d.device_id);
      e.set_wave(d.wave);
      e.set_message("retried on resume");
      UPDRAFT_RETURN_IF_ERROR(txn.AddEvent(e, now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Campaign> CampaignEngine::Cancel(const v1::CampaignActionRequest& request,
                                                    const std::string& who) {
  return Act(request, [&](CampaignTxn& txn) {
    v1::Campaign c = txn.campaign();
    if (IsFinal(c.state())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "campaign ", c.campaign_id(), " is ", v1::CampaignState_Name(c.state()), " already"));
    }
    std::string reason = absl::StrCat("cancelled by ", who);
    if (!request.reason().empty()) absl::StrAppend(&reason, ": ", request.reason());
    return SetState(txn, c, v1::CAMPAIGN_CANCELLED, v1::CAMPAIGN_EVENT_CANCELLED, reason,
                    options_.clock->Now());
  });
}

absl::StatusOr<std::vector<v1::CampaignEvent>> CampaignEngine::Events(
    const std::string& campaign_id, int64_t after_event_id, int limit, int64_t* settled_through) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("campaign_id", campaign_id, kMaxIdLength));
  if (after_event_id < 0) {
    return absl::InvalidArgumentError("after_event_id must not be negative");
  }
  return options_.store->Events(campaign_id, after_event_id, limit, settled_through);
}

absl::Status CampaignEngine::SetState(CampaignTxn& txn, v1::Campaign& c, v1::CampaignState state,
                                      v1::CampaignEventType type, const std::string& reason,
                                      absl::Time now) {
  c.set_state(state);
  c.set_state_reason(reason);
  c.set_updated_at_unix(absl::ToUnixSeconds(now));
  UPDRAFT_RETURN_IF_ERROR(txn.Save(c));
  v1::CampaignEvent e = Event(c, type, now);
  e.set_message(reason);
  return txn.AddEvent(e, now);
}

absl::Status CampaignEngine::Tick() {
  absl::StatusOr<ActiveReleaseSet> active = options_.store->ActiveReleases();
  if (active.ok()) {
    absl::MutexLock lock(&mu_);
    active_releases_.emplace(active->all.begin(), active->all.end());
    gated_releases_ = absl::flat_hash_set<std::string>(active->gated.begin(), active->gated.end());
  } else {
    Log("campaign releases not refreshed", "", active.status());
  }
  std::vector<std::string> running;
  if (options_.announcer != nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(running, options_.store->Running());
  }
  absl::Status first;
  for (const std::string& id : running) {
    absl::Status s = TickCampaign(id);
    if (!s.ok()) {
      Log("campaign step failed", id, s);
      if (first.ok()) first = s;
    }
  }
  if (options_.metrics != nullptr) {
    auto all = ListCampaigns(v1::ListCampaignsRequest());
    if (all.ok()) {
      for (const v1::Campaign& c : all->campaigns()) options_.metrics->Update(c);
    }
  }
  return first;
}

absl::Status CampaignEngine::TickCampaign(const std::string& campaign_id) {
  if (options_.announcer == nullptr) {
    return absl::FailedPreconditionError("this catalog replica has no notifier to announce with");
  }
  bool changed = false;
  // Two transactions: what the step decided (a new wave, retries, a state)
  // commits before anything is announced. A replica killed while announcing
  // then leaves the wave started, and the next step announces the devices
  // still PENDING again, never other devices in their place, with the same
  // idempotency key (CampaignAnnouncementKey): the notifier gives no device
  // a second notification, and those it queued keep their notification ID.
  UPDRAFT_ASSIGN_OR_RETURN(
      bool ran, options_.store->WithCampaign(
                    campaign_id, false, [&](CampaignTxn& txn) { return Step(txn, &changed); }));
  if (!ran) return absl::OkStatus();
  return options_.store
      ->WithCampaign(campaign_id, false,
                     [&](CampaignTxn& txn) {
                       const v1::Campaign& c = txn.campaign();
                       if (c.state() != v1::CAMPAIGN_RUNNING) return absl::OkStatus();
                       return Announce(txn, c, options_.clock->Now());
                     })
      .status();
}

absl::Status CampaignEngine::Step(CampaignTxn& txn, bool* changed) {
  v1::Campaign c = txn.campaign();
  if (c.state() != v1::CAMPAIGN_RUNNING) return absl::OkStatus();
  const absl::Time now = options_.clock->Now();
  const v1::CampaignSpec& spec = c.spec();
  if (now >= absl::FromUnixSeconds(c.created_at_unix()) + Ttl(spec)) {
    *changed = true;
    return SetState(txn, c, v1::CAMPAIGN_EXPIRED, v1::CAMPAIGN_EVENT_EXPIRED,
                    absl::StrCat("time to live of ", absl::FormatDuration(Ttl(spec)), " passed"),
                    now);
  }
  UPDRAFT_RETURN_IF_ERROR(Resolve(txn, now));
  UPDRAFT_ASSIGN_OR_RETURN(CampaignCounts counts, txn.Counts());
  const int waves = spec.waves_size();
  if (c.current_wave() == 0) {
    UPDRAFT_RETURN_IF_ERROR(StartWave(txn, c, counts, now));
  } else {
    const int w = static_cast<int>(c.current_wave());
    auto it = counts.find(w);
    const int64_t size = it == counts.end() ? 0 : Sum(it->second);
    const int64_t failed = Get(counts, w, v1::CAMPAIGN_DEVICE_FAILED);
    const int64_t installed = Get(counts, w, v1::CAMPAIGN_DEVICE_INSTALLED);
    if (size > 0 && static_cast<double>(failed) >= spec.error_threshold() * size) {
      *changed = true;
      return SetState(
          txn, c, v1::CAMPAIGN_PAUSED, v1::CAMPAIGN_EVENT_PAUSED,
          absl::StrFormat("wave %d: %d of %d devices failed (%.1f%%), error threshold %.1f%%", w,
                          failed, size, 100.0 * failed / size, 100.0 * spec.error_threshold()),
          now);
    }
    const bool wave_done = static_cast<double>(installed) >= spec.success_threshold() * size;
    if (w < waves && wave_done) {
      UPDRAFT_RETURN_IF_ERROR(StartWave(txn, c, counts, now));
    } else if (w == waves) {
      int64_t total = 0, done = 0, in_flight = 0;
      for (const auto& [wave, states] : counts) {
        if (wave == 0) continue;
        total += Sum(states);
        done += Get(counts, wave, v1::CAMPAIGN_DEVICE_INSTALLED);
        in_flight += Get(counts, wave, v1::CAMPAIGN_DEVICE_PENDING) +
                     Get(counts, wave, v1::CAMPAIGN_DEVICE_NOTIFIED) +
                     Get(counts, wave, v1::CAMPAIGN_DEVICE_DOWNLOADING);
      }
      if (in_flight == 0 && static_cast<double>(done) >= spec.success_threshold() * total) {
        *changed = true;
        return SetState(txn, c, v1::CAMPAIGN_COMPLETED, v1::CAMPAIGN_EVENT_COMPLETED,
                        absl::StrCat(done, " of ", total, " devices installed"), now);
      }
    }
  }
  if (spec.max_retries() > 0) {
    absl::Duration delay = spec.retry_delay_seconds() > 0
                               ? absl::Seconds(spec.retry_delay_seconds())
                               : kDefaultRetryDelay;
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<DueDevice> retried,
                             txn.Retry(static_cast<int>(spec.max_retries()), now - delay, now));
    for (const DueDevice& d : retried) {
      v1::CampaignEvent e = Event(c, v1::CAMPAIGN_EVENT_DEVICE_RETRY, now);
      e.set_device_id(d.device_id);
      e.set_wave(d.wave);
      UPDRAFT_RETURN_IF_ERROR(txn.AddEvent(e, now));
    }
  }
  return absl::OkStatus();  // TickCampaign announces in a transaction of its own
}

absl::Status CampaignEngine::Resolve(CampaignTxn& txn, absl::Time now) {
  const v1::Campaign& c = txn.campaign();
  {
    absl::MutexLock lock(&mu_);
    auto it = last_resolved_.find(c.campaign_id());
    if (it != last_resolved_.end() && now < it->second + options_.resolve_interval) {
      return absl::OkStatus();
    }
  }
  const v1::TargetSet& t = c.spec().targets();
  std::vector<std::string> ids(t.device_ids().begin(), t.device_ids().end());
  for (const std::string& group : t.groups()) {
    std::string after;
    while (true) {
      UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> page,
                               options_.groups->ListMembers(group, after, kResolvePage));
      ids.insert(ids.end(), page.begin(), page.end());
      if (static_cast<int>(page.size()) < kResolvePage) break;
      after = page.back();
    }
  }
  const v1::AttributeFilter& f = t.filter();
  if (f.models_size() > 0 || f.carriers_size() > 0 || !f.min_os_version().empty() ||
      !f.max_os_version().empty()) {
    std::optional<SemVer> min, max;
    if (!f.min_os_version().empty()) min = *ParseOsVersion(f.min_os_version());
    if (!f.max_os_version().empty()) max = *ParseOsVersion(f.max_os_version());
    std::vector<std::string> models(f.models().begin(), f.models().end());
    std::vector<std::string> carriers(f.carriers().begin(), f.carriers().end());
    std::string after;
    while (true) {
      UPDRAFT_ASSIGN_OR_RETURN(
          std::vector<DeviceAttributeRow> page,
          options_.store->MatchAttributes(models, carriers, after, kResolvePage));
      for (const DeviceAttributeRow& row : page) {
        if (min.has_value() || max.has_value()) {
          auto v = ParseOsVersion(row.os_version);
          if (!v.ok() || (min.has_value() && *v < *min) || (max.has_value() && *v > *max)) {
            continue;
          }
        }
        ids.push_back(row.device_id);
      }
      if (static_cast<int>(page.size()) < kResolvePage) break;
      after = page.back().device_id;
    }
  }
  std::vector<NewCampaignDevice> devices;
  devices.reserve(ids.size());
  for (std::string& id : ids) {
    devices.push_back({std::move(id), static_cast<int64_t>(options_.random() >> 1)});
  }
  const bool last_wave_started = c.current_wave() == static_cast<uint32_t>(c.spec().waves_size());
  UPDRAFT_RETURN_IF_ERROR(
      txn.AddDevices(devices, last_wave_started ? c.current_wave() : 0,
                     last_wave_started ? v1::CAMPAIGN_DEVICE_PENDING : v1::CAMPAIGN_DEVICE_QUEUED,
                     now)
          .status());
  absl::MutexLock lock(&mu_);
  last_resolved_[c.campaign_id()] = now;
  return absl::OkStatus();
}

absl::Status CampaignEngine::StartWave(CampaignTxn& txn, v1::Campaign& c,
                                       const CampaignCounts& counts, absl::Time now) {
  const int next = static_cast<int>(c.current_wave()) + 1;
  const v1::Wave& wave = c.spec().waves(next - 1);
  int64_t total = 0;
  for (const auto& [w, states] : counts) total += Sum(states);
  const int64_t queued = Get(counts, 0, v1::CAMPAIGN_DEVICE_QUEUED);
  int64_t n = queued;
  if (next < c.spec().waves_size()) {
    n = wave.percent() > 0 ? static_cast<int64_t>(std::ceil(total * wave.percent() / 100.0))
                           : static_cast<int64_t>(wave.count());
    n = std::min(n, queued);
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> ids, txn.Queued(static_cast<int>(n)));
  std::vector<std::pair<std::string, absl::Time>> start;
  start.reserve(ids.size());
  const int64_t jitter_ms = c.spec().jitter_seconds() * 1000;
  for (std::string& id : ids) {
    absl::Time at = now;
    if (jitter_ms > 0) at += absl::Milliseconds(options_.random() % jitter_ms);
    start.emplace_back(std::move(id), at);
  }
  UPDRAFT_RETURN_IF_ERROR(txn.StartDevices(start, next, now));
  c.set_current_wave(next);
  c.set_updated_at_unix(absl::ToUnixSeconds(now));
  UPDRAFT_RETURN_IF_ERROR(txn.Save(c));
  v1::CampaignEvent e = Event(c, v1::CAMPAIGN_EVENT_WAVE_STARTED, now);
  e.set_message(
      absl::StrCat("wave ", next, " of ", c.spec().waves_size(), ": ", start.size(), " devices"));
  return txn.AddEvent(e, now);
}

absl::Status CampaignEngine::Announce(CampaignTxn& txn, const v1::Campaign& c, absl::Time now) {
  const v1::CampaignSpec& spec = c.spec();
  const bool quiet = spec.quiet_hours().start_minute() != spec.quiet_hours().end_minute();
  absl::Duration remaining = absl::FromUnixSeconds(c.created_at_unix()) + Ttl(spec) - now;
  int64_t ttl = std::clamp<int64_t>(absl::ToInt64Seconds(remaining), 1, 86400);
  for (int batch = 0; batch < kMaxAnnounceBatchesPerTick; ++batch) {
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<DueDevice> due, txn.Due(now, options_.announce_batch));
    if (due.empty()) return absl::OkStatus();
    std::vector<std::pair<std::string, absl::Time>> deferred;
    // One announcement per (wave, attempt): its idempotency key.
    std::map<std::pair<int, int>, std::vector<const DueDevice*>> ready;
    for (const DueDevice& d : due) {
      absl::Time allowed = quiet ? NextAllowedTime(spec.quiet_hours(), d.time_zone, now) : now;
      if (allowed > now) {
        deferred.emplace_back(d.device_id, allowed);
        continue;
      }
      ready[{d.wave, d.attempts}].push_back(&d);
    }
    UPDRAFT_RETURN_IF_ERROR(txn.Defer(deferred));
    for (const auto& [wave_attempt, devices] : ready) {
      v1::AnnounceRequest request;
      request.set_software_name(c.software_name());
      request.set_location(spec.release_id());
      request.set_ttl_seconds(ttl);
      request.set_idempotency_key(
          CampaignAnnouncementKey(c.campaign_id(), wave_attempt.first, wave_attempt.second));
      for (const DueDevice* d : devices) {
        v1::AnnounceTarget* t = request.add_targets();
        t->set_device_id(d->device_id);
        for (int ch : spec.channels()) t->add_channels(static_cast<v1::Channel>(ch));
      }
      auto announced = options_.announcer->Announce(request);
      if (!announced.ok()) {
        // Devices stay PENDING; the next step tries again with the same key.
        Log("campaign announcement failed", c.campaign_id(), announced.status());
        return absl::OkStatus();
      }
      if (announced->devices_already_queued() > 0 && options_.logger != nullptr) {
        // A step that announced them before did not commit (killed, or its
        // commit failed): the devices keep the notification they hold.
        options_.logger->Info(
            "campaign announcement repeated",
            {{"id", c.campaign_id()},
             {"idempotency_key", request.idempotency_key()},
             {"already_queued", std::to_string(announced->devices_already_queued())},
             {"newly_queued", std::to_string(announced->devices_targeted())}});
      }
      std::vector<std::string> ids;
      for (const DueDevice* d : devices) {
        ids.push_back(d->device_id);
        v1::CampaignEvent e = Event(c, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, now);
        e.set_device_id(d->device_id);
        e.set_wave(d->wave);
        UPDRAFT_RETURN_IF_ERROR(txn.AddEvent(e, now));
      }
      UPDRAFT_RETURN_IF_ERROR(txn.MarkNotified(ids, now));
      if (options_.metrics != nullptr) options_.metrics->CountAnnounced(ids.size());
    }
  }
  return absl::OkStatus();
}

bool CampaignEngine::MayOffer(const std::string& device_id, const std::string& release_id) {
  {
    absl::MutexLock lock(&mu_);
    if (!gated_releases_.contains(release_id)) return true;
  }
  absl::StatusOr<bool> started = options_.store->InStartedWave(device_id, release_id);
  if (!started.ok()) {
    Log("staged offer refused: campaign state unreadable", device_id, started.status());
    return false;
  }
  return *started;
}

void CampaignEngine::OnCheck(const std::string& device_id, const v1::DeviceAttributes& attributes,
                             const std::vector<std::string>& offered_release_ids) {
  const absl::Time now = options_.clock->Now();
  uint64_t fingerprint = absl::HashOf(attributes.model(), attributes.os_version(),
                                      attributes.carrier(), attributes.time_zone());
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    auto it = attributes_seen_.find(device_id);
    changed = it == attributes_seen_.end() || it->second != fingerprint;
  }
  if (changed) {
    absl::Status s = options_.store->PutAttributes(device_id, attributes, now);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      if (attributes_seen_.size() >= kMaxAttributeFingerprints) attributes_seen_.clear();
      attributes_seen_[device_id] = fingerprint;
    } else {
      Log("device attributes not stored", device_id, s);
    }
  }
  std::vector<std::string> in_campaigns;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : offered_release_ids) {
      if (!active_releases_.has_value() || active_releases_->contains(id)) {
        in_campaigns.push_back(id);
      }
    }
  }
  if (in_campaigns.empty()) return;
  auto r = options_.store->RecordOutcome(
      device_id, in_campaigns, {v1::CAMPAIGN_DEVICE_PENDING, v1::CAMPAIGN_DEVICE_NOTIFIED},
      v1::CAMPAIGN_DEVICE_DOWNLOADING, v1::CAMPAIGN_EVENT_DEVICE_DOWNLOADING,
      v1::RESULT_CODE_UNSPECIFIED, now);
  if (!r.ok()) Log("campaign outcome not recorded", device_id, r.status());
}

void CampaignEngine::OnReport(const std::string& device_id, const std::string& release_id,
                              v1::ResultCode result) {
  const bool success = result == v1::SUCCESS;
  std::vector<v1::CampaignDeviceState> from = {
      v1::CAMPAIGN_DEVICE_PENDING, v1::CAMPAIGN_DEVICE_NOTIFIED, v1::CAMPAIGN_DEVICE_DOWNLOADING};
  if (success) {
    from.push_back(v1::CAMPAIGN_DEVICE_QUEUED);
    from.push_back(v1::CAMPAIGN_DEVICE_FAILED);
  }
  auto r = options_.store->RecordOutcome(
      device_id, {release_id}, from,
      success ? v1::CAMPAIGN_DEVICE_INSTALLED : v1::CAMPAIGN_DEVICE_FAILED,
      success ? v1::CAMPAIGN_EVENT_DEVICE_INSTALLED : v1::CAMPAIGN_EVENT_DEVICE_FAILED, result,
      options_.clock->Now());
  if (!r.ok()) Log("campaign outcome not recorded", device_id, r.status());
}

void CampaignEngine::Log(absl::string_view message, const std::string& id, const absl::Status& s) {
  if (options_.logger == nullptr) return;
  options_.logger->Warning(std::string(message), {{"id", id}, {"error", s.ToString()}});
}

}  // namespace updraft::catalog
