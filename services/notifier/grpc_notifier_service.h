#ifndef UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_
#define UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_

#include "common/token.h"
#include "services/notifier/notifier_metrics.h"
#include "services/notifier/notifier_service.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::notifier {

// gRPC adapter for v1::Notifier. Subscribe needs a device access token and
// holds the stream until the device leaves, the server drains, or the
// device (or its token) is revoked: `revocations` is checked again about
// every half second, so a revoked device loses its stream within a second.
// (The token's expiry is checked only when the stream opens: devices hold
// streams for hours.) Announce is a management RPC needing an operator
// token with role publisher. Ack needs the device's token;
// GetNotificationKeys is public.
class GrpcNotifierService final : public v1::Notifier::Service {
 public:
  // All must outlive the adapter; `revocations` may be null.
  GrpcNotifierService(NotifierService& service, TokenVerifier& verifier, NotifierMetrics& metrics,
                      TokenVerifier& operator_verifier,
                      const RevocationChecker* revocations = nullptr);

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::Notification>* writer) override;
  grpc::Status Announce(grpc::ServerContext* context, const v1::AnnounceRequest* request,
                        v1::AnnounceResponse* response) override;
  grpc::Status Ack(grpc::ServerContext* context, const v1::AckRequest* request,
                   v1::AckResponse* response) override;
  grpc::Status GetNotificationKeys(grpc::ServerContext* context,
                                   const v1::GetNotificationKeysRequest* request,
                                   v1::GetNotificationKeysResponse* response) override;

 private:
  NotifierService& service_;
  TokenVerifier& verifier_;
  TokenVerifier& operator_verifier_;
  const RevocationChecker* revocations_;
  NotifierMetrics& metrics_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_
