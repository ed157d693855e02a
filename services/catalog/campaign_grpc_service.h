#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_GRPC_SERVICE_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_GRPC_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/token.h"
#include "services/catalog/campaign_engine.h"
#include "services/catalog/campaign_webhooks.h"
#include "updraft/v1/campaign.grpc.pb.h"

namespace updraft::catalog {

// The CampaignAdmin gRPC API over a CampaignEngine and a WebhookStore:
// checks the operator's role (viewer reads, publisher steers campaigns,
// admin manages webhooks), converts statuses. WatchCampaign polls the
// durable event log every `watch_poll_interval` (real time), so it streams
// what any replica did.
class GrpcCampaignAdmin final : public v1::CampaignAdmin::Service {
 public:
  struct Options {
    CampaignEngine* engine = nullptr;
    WebhookStore* webhooks = nullptr;
    TokenVerifier* operator_verifier = nullptr;
    const Clock* clock = nullptr;
    // Allows http:// webhook URLs (tests only).
    bool allow_plain_http_webhooks = false;
    absl::Duration watch_poll_interval = absl::Milliseconds(500);
  };
  explicit GrpcCampaignAdmin(Options options) : options_(options) {}

  // Ends every WatchCampaign stream (at server shutdown).
  void Stop() { stopping_ = true; }

  grpc::Status CreateCampaign(grpc::ServerContext* context,
                              const v1::CreateCampaignRequest* request,
                              v1::Campaign* response) override;
  grpc::Status GetCampaign(grpc::ServerContext* context, const v1::GetCampaignRequest* request,
                           v1::Campaign* response) override;
  grpc::Status ListCampaigns(grpc::ServerContext* context, const v1::ListCampaignsRequest* request,
                             v1::ListCampaignsResponse* response) override;
  grpc::Status PauseCampaign(grpc::ServerContext* context, const v1::CampaignActionRequest* request,
                             v1::Campaign* response) override;
  grpc::Status ResumeCampaign(grpc::ServerContext* context,
                              const v1::CampaignActionRequest* request,
                              v1::Campaign* response) override;
  grpc::Status CancelCampaign(grpc::ServerContext* context,
                              const v1::CampaignActionRequest* request,
                              v1::Campaign* response) override;
  grpc::Status WatchCampaign(grpc::ServerContext* context, const v1::WatchCampaignRequest* request,
                             grpc::ServerWriter<v1::CampaignUpdate>* writer) override;
  grpc::Status CreateWebhook(grpc::ServerContext* context, const v1::CreateWebhookRequest* request,
                             v1::Webhook* response) override;
  grpc::Status ListWebhooks(grpc::ServerContext* context, const v1::ListWebhooksRequest* request,
                            v1::ListWebhooksResponse* response) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* context, const v1::DeleteWebhookRequest* request,
                             v1::DeleteWebhookResponse* response) override;

 private:
  Options options_;
  std::atomic<bool> stopping_{false};
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_GRPC_SERVICE_H_
