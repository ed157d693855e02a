#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_PROGRESS_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_PROGRESS_H_

#include <cstdint>
#include <map>

#include "absl/time/time.h"
#include "services/catalog/campaign_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// Reading a campaign's device counts and stamping its events: the small
// bookkeeping that the campaign engine, its target resolution
// (CampaignTargets) and its announcements (WaveAnnouncer) share.

// How many devices `states` holds, whatever their state.
int64_t CampaignDevicesIn(const std::map<v1::CampaignDeviceState, int64_t>& states);

// How many devices of `wave` are in `state` (0 when none are counted).
int64_t CampaignDeviceCount(const CampaignCounts& counts, int wave, v1::CampaignDeviceState state);

// The campaign's time to live: spec.ttl_seconds, or kDefaultCampaignTtl.
absl::Duration CampaignTtl(const v1::CampaignSpec& spec);

// A new event of `type` for `c` at its current wave, dated `now`.
v1::CampaignEvent NewCampaignEvent(const v1::Campaign& c, v1::CampaignEventType type,
                                   absl::Time now);

// Adds the progress counters (waves, queued_devices) of `counts` to `c`.
void FillProgress(const CampaignCounts& counts, v1::Campaign* c);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_PROGRESS_H_
