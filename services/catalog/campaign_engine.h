#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_ENGINE_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/catalog/announcer.h"
#include "services/catalog/campaign_metrics.h"
#include "services/catalog/campaign_outcomes.h"
#include "services/catalog/campaign_progress.h"
#include "services/catalog/campaign_store.h"
#include "services/catalog/campaign_targets.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/group_store.h"
#include "services/catalog/wave_announcer.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// The campaign engine (design.md section 6): operator actions on campaigns
// and Tick(), one step of every running campaign over its durable state
// (resolve targets, pause on errors, start the next wave, retry failed
// devices, announce due devices outside quiet hours). Any number of catalog
// replicas may call Tick(): a campaign is worked on only under its store
// lock, so announcements are never doubled. Device outcomes (update checks
// and result reports) and staged offers go through outcomes(). The parts:
// CampaignTargets (target set, waves), WaveAnnouncer (announcements) and
// CampaignOutcomes (the CampaignObserver and OfferGate of the catalog).
class CampaignEngine {
 public:
  struct Options {
    CampaignStore* store = nullptr;
    // Releases are looked up here (a campaign needs a published one).
    CatalogStore* catalog = nullptr;
    // Optional: campaigns naming groups need it.
    GroupStore* groups = nullptr;
    // Optional: without it Tick() changes nothing and announces nothing
    // (this replica does not drive campaigns).
    Announcer* announcer = nullptr;
    const Clock* clock = nullptr;
    // Uniform random 64-bit values (ranks, jitter); RandomBytes when unset.
    std::function<uint64_t()> random;
    Logger* logger = nullptr;
    // Optional.
    CampaignMetrics* metrics = nullptr;
    // Targets per Announce call.
    int announce_batch = 500;
    // How often a running campaign's target set is looked up again (for
    // devices joining a group or newly matching the filter).
    absl::Duration resolve_interval = absl::Minutes(1);
  };

  static absl::StatusOr<std::unique_ptr<CampaignEngine>> Create(Options options);

  absl::StatusOr<v1::Campaign> CreateCampaign(const v1::CreateCampaignRequest& request,
                                              const std::string& created_by);
  // With per-wave progress counters.
  absl::StatusOr<v1::Campaign> GetCampaign(const std::string& campaign_id);
  absl::StatusOr<v1::ListCampaignsResponse> ListCampaigns(const v1::ListCampaignsRequest& request);
  // RUNNING -> PAUSED; FAILED_PRECONDITION unless running.
  absl::StatusOr<v1::Campaign> Pause(const v1::CampaignActionRequest& request,
                                     const std::string& who);
  // PAUSED -> RUNNING; every failed device of the campaign gets another
  // attempt at once. FAILED_PRECONDITION unless paused.
  absl::StatusOr<v1::Campaign> Resume(const v1::CampaignActionRequest& request,
                                      const std::string& who);
  // RUNNING or PAUSED -> CANCELLED (final).
  absl::StatusOr<v1::Campaign> Cancel(const v1::CampaignActionRequest& request,
                                      const std::string& who);
  // Events after `after_event_id` (at most `limit`), for WatchCampaign;
  // see CampaignStore::Events for `settled_through`.
  absl::StatusOr<std::vector<v1::CampaignEvent>> Events(const std::string& campaign_id,
                                                        int64_t after_event_id, int limit,
                                                        int64_t* settled_through = nullptr);

  // One step of every running campaign; returns the first error after
  // trying them all.
  absl::Status Tick();
  absl::Status TickCampaign(const std::string& campaign_id);

  // The CampaignObserver and OfferGate of this engine's campaigns.
  CampaignOutcomes& outcomes() { return outcomes_; }

 private:
  explicit CampaignEngine(Options options);

  absl::Status Step(CampaignTxn& txn, bool* changed);
  absl::Status SetState(CampaignTxn& txn, v1::Campaign& c, v1::CampaignState state,
                        v1::CampaignEventType type, const std::string& reason, absl::Time now);
  // Runs `fn` on the locked campaign and returns it with progress.
  absl::StatusOr<v1::Campaign> Act(const v1::CampaignActionRequest& request,
                                   const std::function<absl::Status(CampaignTxn&)>& fn);
  void Log(absl::string_view message, const std::string& campaign_id, const absl::Status& s);

  Options options_;
  CampaignTargets targets_;
  WaveAnnouncer wave_announcer_;
  CampaignOutcomes outcomes_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_ENGINE_H_
