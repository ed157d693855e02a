#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OUTCOMES_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OUTCOMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/catalog/campaign_observer.h"
#include "services/catalog/campaign_store.h"
#include "services/catalog/offer_gate.h"

namespace updraft::catalog {

// The device side of campaigns (design.md section 6): what update checks
// and result reports change, and whether a gated release may be offered.
// A check stores the device's attributes when they changed (a bounded
// in-memory fingerprint per device spares repeated writes) and moves the
// device to DOWNLOADING in the campaigns of the releases it was offered; a
// report moves it to INSTALLED or FAILED (a success counts even for a
// device not yet in a wave, or one that failed before). The releases of
// RUNNING or PAUSED campaigns are kept in memory (RefreshReleases,
// AddRelease), so that a check offering none of them, or an offer of a
// release no campaign gates, needs no database access. Thread-safe.
class CampaignOutcomes : public CampaignObserver, public OfferGate {
 public:
  struct Options {
    CampaignStore* store = nullptr;
    const Clock* clock = nullptr;
    // Optional.
    Logger* logger = nullptr;
  };

  explicit CampaignOutcomes(Options options) : options_(std::move(options)) {}

  // Reloads the active and gated releases; on error the previous sets stay.
  // Until the first success no check is skipped.
  absl::Status RefreshReleases();
  // A campaign of `release_id` (with gate_offers when `gated`) was created.
  void AddRelease(const std::string& release_id, bool gated);

  // False only for a release of a running or paused campaign with
  // gate_offers and a device outside its started waves (one database read,
  // for such releases only; a failed read refuses the offer).
  bool MayOffer(const std::string& device_id, const std::string& release_id) override;
  void OnCheck(const std::string& device_id, const v1::DeviceAttributes& attributes,
               const std::vector<std::string>& offered_release_ids) override;
  void OnReport(const std::string& device_id, const std::string& release_id,
                v1::ResultCode result) override;

 private:
  void Log(absl::string_view message, const std::string& id, const absl::Status& s);

  Options options_;
  absl::Mutex mu_;
  // Fingerprints of the attributes each device last sent (bounded).
  absl::flat_hash_map<std::string, uint64_t> attributes_seen_ ABSL_GUARDED_BY(mu_);
  // Releases of RUNNING or PAUSED campaigns: a check offering none of them
  // records no outcome (no database write). Unset until first loaded: then
  // nothing is skipped.
  std::optional<absl::flat_hash_set<std::string>> active_releases_ ABSL_GUARDED_BY(mu_);
  // Releases of those campaigns with gate_offers.
  absl::flat_hash_set<std::string> gated_releases_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OUTCOMES_H_
