#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_FAKE_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_FAKE_STORE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/catalog/campaign_store.h"
#include "services/catalog/campaign_webhooks.h"

namespace updraft::catalog {

// In-memory CampaignStore and WebhookStore for unit tests, with the same
// transaction semantics (WithCampaign works on a copy and commits it only
// when the callback returns OK). Lock(id) simulates another replica holding
// a campaign's lock.
class FakeCampaignStore : public CampaignStore, public WebhookStore {
 public:
  struct Device {
    int wave = 0;
    v1::CampaignDeviceState state = v1::CAMPAIGN_DEVICE_QUEUED;
    int64_t rank = 0;
    int attempts = 0;
    int last_result = 0;
    absl::Time notify_at;
    absl::Time updated_at;
  };
  struct Delivery {
    std::string webhook_id;
    int64_t event_id = 0;
    int attempts = 0;
    absl::Time next_attempt_at;
    bool delivered = false;
    bool gave_up = false;
    std::string last_error;
  };

  // Releases Create accepts (others: NOT_FOUND).
  void AddRelease(const std::string& release_id);
  void Lock(const std::string& campaign_id);
  void Unlock(const std::string& campaign_id);
  // Snapshot of one device's row; state UNSPECIFIED when absent.
  Device GetDevice(const std::string& campaign_id, const std::string& device_id);
  std::vector<Delivery> deliveries();

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
  int outcome_calls() {
    absl::MutexLock l(&mu_);
    return outcome_calls_;
  }
  int attribute_writes() {
    absl::MutexLock l(&mu_);
    return attribute_writes_;
  }

  absl::Status CreateWebhook(const v1::Webhook& webhook, const std::string& secret) override;
  absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks() override;
  absl::Status DeleteWebhook(const std::string& webhook_id) override;
  absl::StatusOr<std::vector<WebhookDelivery>> ClaimDeliveries(absl::Time now,
                                                               absl::Time lease_until,
                                                               int limit) override;
  absl::Status FinishDelivery(int64_t delivery_id, bool delivered, bool give_up, absl::Time next_at,
                              const std::string& error, absl::Time now) override;

  // Everything a transaction may change.
  struct State {
    std::map<std::string, v1::Campaign> campaigns;
    std::map<std::string, std::map<std::string, Device>> devices;
    std::vector<v1::CampaignEvent> events;
    std::map<int64_t, Delivery> deliveries;
    int64_t next_event_id = 1;
    int64_t next_delivery_id = 1;
  };

 private:
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> releases_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> locked_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::DeviceAttributes> attributes_ ABSL_GUARDED_BY(mu_);
  int attribute_writes_ ABSL_GUARDED_BY(mu_) = 0;
  int outcome_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::pair<v1::Webhook, std::string>> webhooks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_FAKE_STORE_H_
