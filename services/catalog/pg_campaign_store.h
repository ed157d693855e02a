#ifndef UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_STORE_H_

#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/catalog/campaign_store.h"

namespace updraft::catalog {

// CampaignStore over the PostgreSQL tables of migration 0005_campaigns.sql:
// campaigns, their events and outcomes, and device attributes. WithCampaign
// locks the campaign's row (FOR UPDATE, or FOR UPDATE SKIP LOCKED when not
// waiting) for the transaction and hands the callback a PgCampaignTxn. The
// webhooks of the same migration are PgWebhookStore's.
class PgCampaignStore : public CampaignStore {
 public:
  explicit PgCampaignStore(PgPool* pool) : pool_(pool) {}

  absl::Status Create(const v1::Campaign& campaign, const v1::CampaignEvent& created,
                      absl::Time now) override;
  absl::StatusOr<v1::Campaign> Get(const std::string& campaign_id) override;
  absl::StatusOr<CampaignCounts> Counts(const std::string& campaign_id) override;
  absl::StatusOr<std::vector<ListedCampaign>> List(const std::string& after, int limit) override;
  absl::StatusOr<std::vector<std::string>> Running() override;
  absl::StatusOr<ActiveReleaseSet> ActiveReleases() override;
  absl::StatusOr<bool> InStartedWave(const std::string& device_id,
                                     const std::string& release_id) override;
  absl::StatusOr<bool> WithCampaign(const std::string& campaign_id, bool wait,
                                    const std::function<absl::Status(CampaignTxn&)>& fn) override;
  absl::StatusOr<OutcomeResult> RecordOutcome(const std::string& device_id,
                                              const std::vector<std::string>& release_ids,
                                              const std::vector<v1::CampaignDeviceState>& from,
                                              v1::CampaignDeviceState to,
                                              v1::CampaignEventType type, v1::ResultCode result,
                                              absl::Time now) override;
  absl::StatusOr<std::vector<v1::CampaignEvent>> Events(const std::string& campaign_id,
                                                        int64_t after_event_id, int limit,
                                                        int64_t* settled_through) override;
  absl::Status PutAttributes(const std::string& device_id, const v1::DeviceAttributes& attributes,
                             absl::Time now) override;
  absl::StatusOr<std::vector<DeviceAttributeRow>> MatchAttributes(
      const std::vector<std::string>& models, const std::vector<std::string>& carriers,
      const std::string& after, int limit) override;

 private:
  PgPool* pool_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_STORE_H_
