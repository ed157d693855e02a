#include "services/catalog/campaign_grpc_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/operator_auth.h"
#include "common/status_util.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr int kWatchBatch = 500;

bool IsFinal(v1::CampaignState s) {
  return s == v1::CAMPAIGN_CANCELLED || s == v1::CAMPAIGN_COMPLETED || s == v1::CAMPAIGN_EXPIRED;
}

}  // namespace

#define UPDRAFT_AUTHORIZE(role, rpc)                                              \
  auto who = AuthorizeOperator(*context, *options_.operator_verifier, role, rpc); \
  if (!who.ok()) return ToGrpcStatus(who.status())

grpc::Status GrpcCampaignAdmin::CreateCampaign(grpc::ServerContext* context,
                                               const v1::CreateCampaignRequest* request,
                                               v1::Campaign* response) {
  UPDRAFT_AUTHORIZE(Role::kPublisher, "CreateCampaign");
  return ReplyWith(options_.engine->CreateCampaign(*request, who->key_id), response);
}

grpc::Status GrpcCampaignAdmin::GetCampaign(grpc::ServerContext* context,
                                            const v1::GetCampaignRequest* request,
                                            v1::Campaign* response) {
  UPDRAFT_AUTHORIZE(Role::kViewer, "GetCampaign");
  return ReplyWith(options_.engine->GetCampaign(request->campaign_id()), response);
}

grpc::Status GrpcCampaignAdmin::ListCampaigns(grpc::ServerContext* context,
                                              const v1::ListCampaignsRequest* request,
                                              v1::ListCampaignsResponse* response) {
  UPDRAFT_AUTHORIZE(Role::kViewer, "ListCampaigns");
  return ReplyWith(options_.engine->ListCampaigns(*request), response);
}

grpc::Status GrpcCampaignAdmin::PauseCampaign(grpc::ServerContext* context,
                                              const v1::CampaignActionRequest* request,
                                              v1::Campaign* response) {
  UPDRAFT_AUTHORIZE(Role::kPublisher, "PauseCampaign");
  return ReplyWith(options_.engine->Pause(*request, who->key_id), response);
}

grpc::Status GrpcCampaignAdmin::ResumeCampaign(grpc::ServerContext* context,
                                               const v1::CampaignActionRequest* request,
                                               v1::Campaign* response) {
  UPDRAFT_AUTHORIZE(Role::kPublisher, "ResumeCampaign");
  return ReplyWith(options_.engine->Resume(*request, who->key_id), response);
}

grpc::Status GrpcCampaignAdmin::CancelCampaign(grpc::ServerContext* context,
                                               const v1::CampaignActionRequest* request,
                                               v1::Campaign* response) {
  UPDRAFT_AUTHORIZE(Role::kPublisher, "CancelCampaign");
  return ReplyWith(options_.engine->Cancel(*request, who->key_id), response);
}

grpc::Status GrpcCampaignAdmin::WatchCampaign(grpc::ServerContext* context,
                                              const v1::WatchCampaignRequest* request,
                                              grpc::ServerWriter<v1::CampaignUpdate>* writer) {
  UPDRAFT_AUTHORIZE(Role::kViewer, "WatchCampaign");
  // Events up to `stable` were all sent; later ones sent so far are in
  // `sent` (a lower ID may still commit after a higher one: re-read them).
  int64_t stable = request->after_event_id();
  std::set<int64_t> sent;
  std::string last_progress;
  while (!context->IsCancelled() && !stopping_) {
    // The campaign first: when it was final already, the events read next
    // include its last one.
    absl::StatusOr<v1::Campaign> c = options_.engine->GetCampaign(request->campaign_id());
    if (!c.ok()) return ToGrpcStatus(c.status());
    int64_t from = stable;
    bool full = true;
    while (full && !context->IsCancelled()) {
      int64_t settled = from;
      auto events = options_.engine->Events(request->campaign_id(), from, kWatchBatch, &settled);
      if (!events.ok()) return ToGrpcStatus(events.status());
      for (v1::CampaignEvent& e : *events) {
        if (!sent.insert(e.event_id()).second) continue;
        v1::CampaignUpdate update;
        *update.mutable_event() = std::move(e);
        if (!writer->Write(update)) return grpc::Status::OK;
      }
      if (from == stable) stable = std::max(stable, settled);
      full = static_cast<int>(events->size()) == kWatchBatch;
      if (full) from = events->back().event_id();
    }
    sent.erase(sent.begin(), sent.upper_bound(stable));
    std::string progress = c->SerializeAsString();
    if (progress != last_progress) {
      last_progress = std::move(progress);
      v1::CampaignUpdate update;
      *update.mutable_progress() = *c;
      if (!writer->Write(update)) return grpc::Status::OK;
    }
    if (IsFinal(c->state())) return grpc::Status::OK;
    absl::SleepFor(options_.watch_poll_interval);
  }
  return grpc::Status::OK;
}

grpc::Status GrpcCampaignAdmin::CreateWebhook(grpc::ServerContext* context,
                                              const v1::CreateWebhookRequest* request,
                                              v1::Webhook* response) {
  UPDRAFT_AUTHORIZE(Role::kAdmin, "CreateWebhook");
  absl::Status valid = ValidateWebhook(*request, options_.allow_plain_http_webhooks);
  if (!valid.ok()) return ToGrpcStatus(valid);
  if (!request->campaign_id().empty()) {
    auto c = options_.engine->GetCampaign(request->campaign_id());
    if (!c.ok()) return ToGrpcStatus(c.status());
  }
  v1::Webhook w;
  w.set_webhook_id(absl::StrCat("whk_", absl::BytesToHexString(RandomBytes(8))));
  w.set_url(request->url());
  w.set_campaign_id(request->campaign_id());
  w.set_created_at_unix(absl::ToUnixSeconds(options_.clock->Now()));
  absl::Status s = options_.webhooks->CreateWebhook(w, request->secret());
  if (!s.ok()) return ToGrpcStatus(s);
  *response = std::move(w);
  return grpc::Status::OK;
}

grpc::Status GrpcCampaignAdmin::ListWebhooks(grpc::ServerContext* context,
                                             const v1::ListWebhooksRequest* request,
                                             v1::ListWebhooksResponse* response) {
  UPDRAFT_AUTHORIZE(Role::kAdmin, "ListWebhooks");
  auto list = options_.webhooks->ListWebhooks();
  if (!list.ok()) return ToGrpcStatus(list.status());
  for (v1::Webhook& w : *list) *response->add_webhooks() = std::move(w);
  return grpc::Status::OK;
}

grpc::Status GrpcCampaignAdmin::DeleteWebhook(grpc::ServerContext* context,
                                              const v1::DeleteWebhookRequest* request,
                                              v1::DeleteWebhookResponse* response) {
  UPDRAFT_AUTHORIZE(Role::kAdmin, "DeleteWebhook");
  absl::Status s = ValidateIdentifier("webhook_id", request->webhook_id(), kMaxIdLength);
  if (s.ok()) s = options_.webhooks->DeleteWebhook(request->webhook_id());
  return ToGrpcStatus(s);
}

#undef UPDRAFT_AUTHORIZE

}  // namespace updraft::catalog
