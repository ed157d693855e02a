#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_RUNTIME_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_RUNTIME_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/operator_auth.h"
#include "common/pg_pool.h"
#include "common/tls.h"
#include "common/token.h"
#include "prometheus/registry.h"
#include "services/catalog/announcer.h"
#include "services/catalog/campaign_curl_sender.h"
#include "services/catalog/campaign_engine.h"
#include "services/catalog/campaign_grpc_service.h"
#include "services/catalog/campaign_metrics.h"
#include "services/catalog/campaign_webhooks.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/group_store.h"
#include "services/catalog/pg_campaign_store.h"
#include "services/catalog/pg_webhook_store.h"

namespace updraft::catalog {

// The campaign side of a catalog replica, wired: PgCampaignStore and
// PgWebhookStore, the notifier Announcer (when notifier_address is set),
// CampaignEngine, webhook dispatcher over libcurl, metrics, the
// CampaignAdmin gRPC service, and a background thread that steps every
// running campaign and sends due webhooks every tick_interval. Used by
// CatalogServer.
class CampaignRuntime {
 public:
  struct Options {
    PgPool* pool = nullptr;
    CatalogStore* catalog = nullptr;
    GroupStore* groups = nullptr;
    TokenVerifier* operator_verifier = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    prometheus::Registry* registry = nullptr;
    // The notifier; empty: this replica does not drive campaigns (it still
    // serves CampaignAdmin and records device outcomes).
    std::string notifier_address;
    TlsOptions tls;
    // Operator token for Announce (role publisher); null: none sent.
    OperatorTokenSource* credentials = nullptr;
    // The catalog address put in announcements.
    std::string announce_server_address;
    // 0: no background thread (tests call StepOnce()).
    absl::Duration tick_interval = absl::Seconds(2);
    absl::Duration watch_poll_interval = absl::Milliseconds(500);
    bool allow_plain_http_webhooks = false;
    std::string webhook_ca_file;
  };
  static absl::StatusOr<std::unique_ptr<CampaignRuntime>> Create(Options options);
  ~CampaignRuntime();

  CampaignEngine& engine() { return *engine_; }
  // Null without a notifier.
  Announcer* announcer() { return announcer_.get(); }
  GrpcCampaignAdmin* service() { return service_.get(); }
  // One campaign step and one webhook round.
  absl::Status StepOnce();
  // Stops the background thread and ends WatchCampaign streams.
  void Stop();

 private:
  CampaignRuntime() = default;
  void Loop();

  Options options_;
  std::unique_ptr<CampaignMetrics> metrics_;
  std::unique_ptr<PgCampaignStore> store_;
  std::unique_ptr<PgWebhookStore> webhook_store_;
  std::unique_ptr<Announcer> announcer_;
  std::unique_ptr<CampaignEngine> engine_;
  std::unique_ptr<CurlWebhookSender> sender_;
  std::unique_ptr<WebhookDispatcher> webhooks_;
  std::unique_ptr<GrpcCampaignAdmin> service_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_RUNTIME_H_
