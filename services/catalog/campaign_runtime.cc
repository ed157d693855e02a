#include "services/catalog/campaign_runtime.h"

#include "common/status_util.h"
#include "services/catalog/grpc_announcer.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::catalog {

absl::StatusOr<std::unique_ptr<CampaignRuntime>> CampaignRuntime::Create(Options options) {
  if (options.pool == nullptr || options.catalog == nullptr ||
      options.operator_verifier == nullptr || options.clock == nullptr ||
      options.logger == nullptr) {
    return absl::InvalidArgumentError(
        "CampaignRuntime needs a pool, a catalog store, an operator verifier, a clock and a "
        "logger");
  }
  std::unique_ptr<CampaignRuntime> r(new CampaignRuntime());
  if (options.registry != nullptr) {
    r->metrics_ = std::make_unique<CampaignMetrics>(*options.registry);
  }
  r->store_ = std::make_unique<PgCampaignStore>(options.pool);
  r->webhook_store_ = std::make_unique<PgWebhookStore>(options.pool);
  if (!options.notifier_address.empty()) {
    UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                             MakeChannel(options.notifier_address, options.tls));
    r->announcer_ = std::make_unique<GrpcAnnouncer>(
        v1::Notifier::NewStub(channel), options.announce_server_address, options.credentials);
  } else {
    options.logger->Warning("no --notifier_address: this catalog replica does not drive campaigns");
  }
  UPDRAFT_ASSIGN_OR_RETURN(r->engine_, CampaignEngine::Create({.store = r->store_.get(),
                                                               .catalog = options.catalog,
                                                               .groups = options.groups,
                                                               .announcer = r->announcer_.get(),
                                                               .clock = options.clock,
                                                               .logger = options.logger,
                                                               .metrics = r->metrics_.get()}));
  r->sender_ = std::make_unique<CurlWebhookSender>(CurlWebhookSender::Options{
      .ca_file = options.webhook_ca_file, .allow_plain_http = options.allow_plain_http_webhooks});
  UPDRAFT_ASSIGN_OR_RETURN(r->webhooks_,
                           WebhookDispatcher::Create({.store = r->webhook_store_.get(),
                                                      .sender = r->sender_.get(),
                                                      .clock = options.clock,
                                                      .logger = options.logger,
                                                      .metrics = r->metrics_.get()}));
  r->service_ = std::make_unique<GrpcCampaignAdmin>(
      GrpcCampaignAdmin::Options{.engine = r->engine_.get(),
                                 .webhooks = r->webhook_store_.get(),
                                 .operator_verifier = options.operator_verifier,
                                 .clock = options.clock,
                                 .allow_plain_http_webhooks = options.allow_plain_http_webhooks,
                                 .watch_poll_interval = options.watch_poll_interval});
  r->options_ = std::move(options);
  if (r->options_.tick_interval > absl::ZeroDuration()) {
    r->thread_ = std::thread([raw = r.get()] { raw->Loop(); });
  }
  return r;
}

CampaignRuntime::~CampaignRuntime() { Stop(); }

void CampaignRuntime::Stop() {
  if (service_) service_->Stop();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status CampaignRuntime::StepOnce() {
  absl::Status s = engine_->Tick();
  auto sent = webhooks_->RunOnce();
  if (s.ok() && !sent.ok()) s = sent.status();
  return s;
}

void CampaignRuntime::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.tick_interval);
      if (stop_) return;
    }
    absl::Status s = StepOnce();
    if (!s.ok()) options_.logger->Warning("campaign step failed", {{"error", s.ToString()}});
  }
}

}  // namespace updraft::catalog
