#ifndef UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_TXN_H_
#define UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_TXN_H_

#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "services/catalog/campaign_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// CampaignTxn over one pqxx transaction holding the campaign's row lock
// (PgCampaignStore::WithCampaign takes it): the per-device state of one
// campaign in table campaign_devices. Events are kept until Flush(), which
// the owner calls after the caller's work succeeded, just before commit
// (see PgCampaignStore::Events for why).
class PgCampaignTxn : public CampaignTxn {
 public:
  PgCampaignTxn(pqxx::work& txn, v1::Campaign campaign)
      : txn_(txn), campaign_(std::move(campaign)) {}

  const v1::Campaign& campaign() const override { return campaign_; }
  absl::Status Save(const v1::Campaign& c) override;
  absl::StatusOr<CampaignCounts> Counts() override;
  absl::StatusOr<int> AddDevices(const std::vector<NewCampaignDevice>& devices, int wave,
                                 v1::CampaignDeviceState state, absl::Time now) override;
  absl::StatusOr<std::vector<std::string>> Queued(int limit) override;
  absl::Status StartDevices(const std::vector<std::pair<std::string, absl::Time>>& devices,
                            int wave, absl::Time now) override;
  absl::StatusOr<std::vector<DueDevice>> Due(absl::Time now, int limit) override;
  absl::Status Defer(const std::vector<std::pair<std::string, absl::Time>>& devices) override;
  absl::Status MarkNotified(const std::vector<std::string>& ids, absl::Time now) override;
  absl::StatusOr<std::vector<DueDevice>> Retry(int max_attempts, absl::Time failed_before,
                                               absl::Time now) override;
  // Kept until Flush(): events go in at the end of the transaction.
  absl::Status AddEvent(const v1::CampaignEvent& event, absl::Time now) override;

  // Inserts the events added so far (with their webhook deliveries).
  absl::Status Flush();

 private:
  // Sets notify_at per device (and `set`) on the campaign's devices
  // matching `where` (alias d).
  absl::Status Update(const std::vector<std::pair<std::string, absl::Time>>& devices,
                      const std::string& set, const std::string& where, int wave, int64_t now);

  pqxx::work& txn_;
  v1::Campaign campaign_;
  std::vector<std::pair<v1::CampaignEvent, absl::Time>> pending_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_TXN_H_
