#ifndef UPDRAFT_SERVICES_CATALOG_PG_WEBHOOK_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_WEBHOOK_STORE_H_

#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/catalog/campaign_webhooks.h"

namespace updraft::catalog {

// WebhookStore over the PostgreSQL tables campaign_webhooks and
// campaign_webhook_deliveries of migration 0005_campaigns.sql. Deliveries
// are written with their event (InsertCampaignEvent); ClaimDeliveries
// leases due rows with FOR UPDATE SKIP LOCKED, so replicas never claim the
// same delivery at once.
class PgWebhookStore : public WebhookStore {
 public:
  explicit PgWebhookStore(PgPool* pool) : pool_(pool) {}

  absl::Status CreateWebhook(const v1::Webhook& webhook, const std::string& secret) override;
  absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks() override;
  absl::Status DeleteWebhook(const std::string& webhook_id) override;
  absl::StatusOr<std::vector<WebhookDelivery>> ClaimDeliveries(absl::Time now,
                                                               absl::Time lease_until,
                                                               int limit) override;
  absl::Status FinishDelivery(int64_t delivery_id, bool delivered, bool give_up, absl::Time next_at,
                              const std::string& error, absl::Time now) override;

 private:
  PgPool* pool_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_WEBHOOK_STORE_H_
