#include "services/catalog/campaign_progress.h"

#include "services/catalog/campaign_validation.h"

namespace updraft::catalog {

int64_t CampaignDevicesIn(const std::map<v1::CampaignDeviceState, int64_t>& states) {
  int64_t n = 0;
  for (const auto& [state, count] : states) n += count;
  return n;
}

int64_t CampaignDeviceCount(const CampaignCounts& counts, int wave, v1::CampaignDeviceState state) {
  auto w = counts.find(wave);
  if (w == counts.end()) return 0;
  auto s = w->second.find(state);
  return s == w->second.end() ? 0 : s->second;
}

absl::Duration CampaignTtl(const v1::CampaignSpec& spec) {
  return spec.ttl_seconds() > 0 ? absl::Seconds(spec.ttl_seconds()) : kDefaultCampaignTtl;
}

v1::CampaignEvent NewCampaignEvent(const v1::Campaign& c, v1::CampaignEventType type,
                                   absl::Time now) {
  v1::CampaignEvent e;
  e.set_campaign_id(c.campaign_id());
  e.set_type(type);
  e.set_wave(c.current_wave());
  e.set_at_unix(absl::ToUnixSeconds(now));
  return e;
}

void FillProgress(const CampaignCounts& counts, v1::Campaign* c) {
  c->clear_waves();
  c->set_queued_devices(CampaignDeviceCount(counts, 0, v1::CAMPAIGN_DEVICE_QUEUED));
  c->set_installed_outside_waves(CampaignDeviceCount(counts, 0, v1::CAMPAIGN_DEVICE_INSTALLED));
  for (int w = 1; w <= c->spec().waves_size(); ++w) {
    v1::WaveProgress* p = c->add_waves();
    p->set_wave(w);
    auto it = counts.find(w);
    if (it != counts.end()) p->set_devices(CampaignDevicesIn(it->second));
    p->set_pending(CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_PENDING));
    p->set_notified(CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_NOTIFIED));
    p->set_downloading(CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_DOWNLOADING));
    p->set_installed(CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_INSTALLED));
    p->set_failed(CampaignDeviceCount(counts, w, v1::CAMPAIGN_DEVICE_FAILED));
  }
}

}  // namespace updraft::catalog
