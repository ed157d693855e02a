#include "services/catalog/campaign_engine.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "services/catalog/campaign_validation.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

bool IsFinal(v1::CampaignState s) {
  return s == v1::CAMPAIGN_CANCELLED || s == v1::CAMPAIGN_COMPLETED || s == v1::CAMPAIGN_EXPIRED;
}

}  // namespace

CampaignEngine::CampaignEngine(Options options)
    : options_(std::move(options)),
      targets_({.store = options_.store,
                .groups = options_.groups,
                // Shares the engine's generator (it may keep state).
                .random = [this] { return options_.random(); },
                .resolve_interval = options_.resolve_interval}),
      wave_announcer_({.announcer = options_.announcer,
                       .logger = options_.logger,
                       .metrics = options_.metrics,
                       .announce_batch = options_.announce_batch}),
      outcomes_({.store = options_.store, .clock = options_.clock, .logger = options_.logger}) {}

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
  v1::CampaignEvent created = NewCampaignEvent(c, v1::CAMPAIGN_EVENT_CREATED, now);
  created.set_message(absl::StrCat("created by ", created_by));
  UPDRAFT_RETURN_IF_ERROR(options_.store->Create(c, created, now));
  outcomes_.AddRelease(spec.release_id(), spec.gate_offers());
  // The target set is looked up at once, so that devices reporting before
  // the first step count; a failure here is retried by the next step.
  auto resolved = options_.store->WithCampaign(
      c.campaign_id(), true, [&](CampaignTxn& txn) { return targets_.Resolve(txn, now); });
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
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<ListedCampaign> list,
                           options_.store->List(request.after_campaign_id(),
                                                request.limit() == 0 ? 100 : request.limit()));
  v1::ListCampaignsResponse response;
  for (ListedCampaign& c : list) {
    FillProgress(c.counts, &c.campaign);
    *response.add_campaigns() = std::move(c.campaign);
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
      v1::CampaignEvent e = NewCampaignEvent(c, v1::CAMPAIGN_EVENT_DEVICE_RETRY, now);
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
  v1::CampaignEvent e = NewCampaignEvent(c, type, now);
  e.set_message(reason);
  return txn.AddEvent(e, now);
}

absl::Status CampaignEngine::Tick() {
  absl::Status refreshed = outcomes_.RefreshReleases();
  if (!refreshed.ok()) Log("campaign releases not refreshed", "", refreshed);
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
                       return wave_announcer_.AnnounceDue(txn, c, options_.clock->Now());
                     })
      .status();
}

absl::Status CampaignEngine::Step(CampaignTxn& txn, bool* changed) {
  v1::Campaign c = txn.campaign();
  if (c.state() != v1::CAMPAIGN_RUNNING) return absl::OkStatus();
  const absl::Time now = options_.clock->Now();
  const v1::CampaignSpec& spec = c.spec();
  if (now >= absl::FromUnixSeconds(c.created_at_unix()) + CampaignTtl(spec)) {
    *changed = true;
    return SetState(
        txn, c, v1::CAMPAIGN_EXPIRED, v1::CAMPAIGN_EVENT_EXPIRED,
        absl::StrCat("time to live of ", absl::FormatDuration(CampaignTtl(spec)), " passed"), now);
  }
  UPDRAFT_RETURN_IF_ERROR(targets_.Resolve(txn, now));
  UPDRAFT_ASSIGN_OR_RETURN(CampaignCounts counts, txn.Counts());
  const int waves = spec.waves_size();
  if (c.current_wave() == 0) {
    UPDRAFT_RETURN_IF_ERROR(targets_.StartWave(txn, c, counts, now));
  } else {
    const int w = static_cast<int>(c.current_wave());
    auto it = counts.find(w);
    const int64_t size = it == counts.end() ? 0 : CampaignDevicesIn(it->second);
    const int64_t failed = CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_FAILED);
    const int64_t installed = CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_INSTALLED);
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
      UPDRAFT_RETURN_IF_ERROR(targets_.StartWave(txn, c, counts, now));
    } else if (w == waves) {
      int64_t total = 0, done = 0, in_flight = 0;
      for (const auto& [wave, states] : counts) {
        if (wave == 0) continue;
        total += CampaignDevicesIn(states);
        done += CampaignDeviceCount(counts, wave, v1::CAMPAIGN_DEVICE_INSTALLED);
        in_flight += CampaignDeviceCount(counts, wave, v1::CAMPAIGN_DEVICE_PENDING) +
                     CampaignDeviceCount(counts, wave, v1::CAMPAIGN_DEVICE_NOTIFIED) +
                     CampaignDeviceCount(counts, wave, v1::CAMPAIGN_DEVICE_DOWNLOADING);
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
      v1::CampaignEvent e = NewCampaignEvent(c, v1::CAMPAIGN_EVENT_DEVICE_RETRY, now);
      e.set_device_id(d.device_id);
      e.set_wave(d.wave);
      UPDRAFT_RETURN_IF_ERROR(txn.AddEvent(e, now));
    }
  }
  return absl::OkStatus();  // TickCampaign announces in a transaction of its own
}

void CampaignEngine::Log(absl::string_view message, const std::string& id, const absl::Status& s) {
  if (options_.logger == nullptr) return;
  options_.logger->Warning(std::string(message), {{"id", id}, {"error", s.ToString()}});
}

}  // namespace updraft::catalog
