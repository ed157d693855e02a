#ifndef UPDRAFT_SERVICES_CATALOG_WAVE_ANNOUNCER_H_
#define UPDRAFT_SERVICES_CATALOG_WAVE_ANNOUNCER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/logger.h"
#include "services/catalog/announcer.h"
#include "services/catalog/campaign_metrics.h"
#include "services/catalog/campaign_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// Announces a running campaign's due devices (PENDING, notify_at passed)
// through the notifier, in batches: a device inside the campaign's quiet
// hours (in its own time zone) is deferred to their end; the others get one
// Announce call per (wave, attempt), keyed by CampaignAnnouncementKey, and
// become NOTIFIED with a DEVICE_NOTIFIED event. A failed call leaves its
// devices PENDING for the next step, which repeats the key. Works in the
// campaign's locked transaction; holds no state.
class WaveAnnouncer {
 public:
  struct Options {
    Announcer* announcer = nullptr;
    // Optional.
    Logger* logger = nullptr;
    // Optional.
    CampaignMetrics* metrics = nullptr;
    // Targets per Announce call.
    int announce_batch = 500;
  };

  explicit WaveAnnouncer(Options options) : options_(std::move(options)) {}

  // At most a bounded number of batches per call; the rest wait for the
  // next step. An Announce failure is logged, not returned.
  absl::Status AnnounceDue(CampaignTxn& txn, const v1::Campaign& c, absl::Time now);

 private:
  Options options_;
};

// The Notifier.Announce idempotency key of a campaign's announcement to the
// devices of `wave` at their `attempt` (DueDevice::attempts): a step re-run
// after a kill repeats the key, so devices keep the notification they hold;
// a retry after a failure is a new attempt, hence a new notification.
std::string CampaignAnnouncementKey(const std::string& campaign_id, int wave, int attempt);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_WAVE_ANNOUNCER_H_
