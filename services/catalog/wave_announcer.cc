#include "services/catalog/wave_announcer.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "services/catalog/campaign_progress.h"
#include "services/catalog/campaign_validation.h"

namespace updraft::catalog {
namespace {

constexpr int kMaxAnnounceBatchesPerTick = 50;

}  // namespace

std::string CampaignAnnouncementKey(const std::string& campaign_id, int wave, int attempt) {
  return absl::StrCat("campaign/", campaign_id, "/wave/", wave, "/attempt/", attempt);
}

absl::Status WaveAnnouncer::AnnounceDue(CampaignTxn& txn, const v1::Campaign& c, absl::Time now) {
  const v1::CampaignSpec& spec = c.spec();
  const bool quiet = spec.quiet_hours().start_minute() != spec.quiet_hours().end_minute();
  absl::Duration remaining = absl::FromUnixSeconds(c.created_at_unix()) + CampaignTtl(spec) - now;
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
        if (options_.logger != nullptr) {
          options_.logger->Warning(
              "campaign announcement failed",
              {{"id", c.campaign_id()}, {"error", announced.status().ToString()}});
        }
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
        v1::CampaignEvent e = NewCampaignEvent(c, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, now);
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

}  // namespace updraft::catalog
