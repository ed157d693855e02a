#include "services/notifier/grpc_notifier_service.h"

#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"
#include "prometheus/counter.h"

namespace updraft::notifier {

GrpcNotifierService::GrpcNotifierService(NotifierService& service, TokenVerifier& verifier,
                                         NotifierMetrics& metrics, TokenVerifier& operator_verifier,
                                         const RevocationChecker* revocations)
    : service_(service),
      verifier_(verifier),
      operator_verifier_(operator_verifier),
      revocations_(revocations),
      metrics_(metrics) {}

grpc::Status GrpcNotifierService::Subscribe(grpc::ServerContext* context,
                                            const v1::SubscribeRequest*,
                                            grpc::ServerWriter<v1::Notification>* writer) {
  auto token = BearerToken(*context);
  if (!token.ok()) return ToGrpcStatus(token.status());
  auto claims = verifier_.Verify(*token);
  if (!claims.ok()) return ToGrpcStatus(claims.status());
  const std::string& device = claims->subject;
  auto opened = service_.OpenStream(device);
  if (!opened.ok()) return ToGrpcStatus(opened.status());
  std::shared_ptr<Subscription> sub = *std::move(opened);
  metrics_.connected().Increment();
  writer->SendInitialMetadata();
  grpc::Status result = grpc::Status::OK;
  while (!context->IsCancelled()) {
    if (revocations_ != nullptr) {
      absl::Status revoked = revocations_->Check(*claims);
      if (!revoked.ok()) {
        result = ToGrpcStatus(revoked);
        break;
      }
    }
    auto n = service_.NextFor(*sub, absl::Milliseconds(500));
    if (!n) {
      if (sub->closed()) {
        result = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "stream closed by the server (replaced or draining); reconnect");
        break;
      }
      continue;
    }
    if (!writer->Write(*n)) break;
  }
  service_.CloseStream(sub);
  metrics_.connected().Decrement();
  return result;
}

grpc::Status GrpcNotifierService::Announce(grpc::ServerContext* context,
                                           const v1::AnnounceRequest* request,
                                           v1::AnnounceResponse* response) {
  auto who = AuthorizeOperator(*context, operator_verifier_, Role::kPublisher, "Announce");
  if (!who.ok()) return ToGrpcStatus(who.status());
  auto r = service_.Announce(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrpcNotifierService::Ack(grpc::ServerContext* context, const v1::AckRequest* request,
                                      v1::AckResponse*) {
  auto token = BearerToken(*context);
  if (!token.ok()) return ToGrpcStatus(token.status());
  auto claims = verifier_.Verify(*token);
  if (!claims.ok()) return ToGrpcStatus(claims.status());
  return ToGrpcStatus(service_.Ack(claims->subject, request->notification_id()));
}

grpc::Status GrpcNotifierService::GetNotificationKeys(grpc::ServerContext*,
                                                      const v1::GetNotificationKeysRequest*,
                                                      v1::GetNotificationKeysResponse* response) {
  for (const std::string& k : service_.PublicKeys()) response->add_public_keys(k);
  return grpc::Status::OK;
}

}  // namespace updraft::notifier
