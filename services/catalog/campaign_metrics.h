#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_METRICS_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_METRICS_H_

#include <cstdint>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// Campaign progress for Prometheus: updraft_campaign_devices{campaign, wave,
// state} (wave "0" holds queued devices), updraft_campaign_state{campaign,
// state} (1 for the current state, 0 for the others),
// updraft_campaign_announced_devices_total and
// updraft_campaign_webhook_deliveries_total{result}. Every replica exports
// the same durable figures; aggregate with max by (campaign, ...).
class CampaignMetrics {
 public:
  explicit CampaignMetrics(prometheus::Registry& registry);

  // `c` with its progress counters (CampaignEngine::GetCampaign).
  void Update(const v1::Campaign& c);
  void CountAnnounced(int64_t devices);
  // result: "delivered", "retry" or "gave_up".
  void CountWebhook(const std::string& result);

 private:
  prometheus::Family<prometheus::Gauge>& devices_;
  prometheus::Family<prometheus::Gauge>& state_;
  prometheus::Counter& announced_;
  prometheus::Family<prometheus::Counter>& webhooks_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_METRICS_H_
