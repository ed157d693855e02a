#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TARGETS_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TARGETS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/catalog/campaign_store.h"
#include "services/catalog/group_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// Which devices a campaign reaches, and in which wave (design.md section
// 6). Resolve() turns the target set (device IDs, group members, devices
// whose known attributes match the filter) into campaign devices with a
// random rank, at most once per resolve_interval per campaign; devices
// found after the last wave started join it at once, the others queue.
// StartWave() moves queued devices, lowest rank first, into the next wave,
// each announced at a random moment within the spec's jitter. Both work in
// the campaign's locked transaction (CampaignStore::WithCampaign).
// Thread-safe.
class CampaignTargets {
 public:
  struct Options {
    // Devices matching an attribute filter are looked up here.
    CampaignStore* store = nullptr;
    // Needed only by campaigns naming groups.
    GroupStore* groups = nullptr;
    // Uniform random 64-bit values (ranks, jitter); required.
    std::function<uint64_t()> random;
    absl::Duration resolve_interval = absl::Minutes(1);
  };

  explicit CampaignTargets(Options options) : options_(std::move(options)) {}

  // Adds the target devices not yet in the campaign; a no-op when the
  // campaign was resolved less than resolve_interval before `now`.
  absl::Status Resolve(CampaignTxn& txn, absl::Time now);
  // Starts wave current_wave + 1 of `c` (saved, with a WAVE_STARTED event):
  // its percent of all the campaign's devices (rounded up) or its count,
  // at most the queued ones; the last wave takes every queued device.
  absl::Status StartWave(CampaignTxn& txn, v1::Campaign& c, const CampaignCounts& counts,
                         absl::Time now);

 private:
  Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> last_resolved_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TARGETS_H_
