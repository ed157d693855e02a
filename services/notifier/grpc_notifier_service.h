#ifndef UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_
#define UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_

#include <memory>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/token.h"
#include "services/notifier/notifier_metrics.h"
#include "services/notifier/notifier_service.h"
#include "services/notifier/work_queue.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::notifier {

class SubscribeReactor;

// The base: every Notifier method on gRPC's callback API, Subscribe raw
// (it writes pre-serialised notifications, see PreparedNotification).
using NotifierCallbackBase = v1::Notifier::WithRawCallbackMethod_Subscribe<
    v1::Notifier::WithCallbackMethod_Announce<v1::Notifier::WithCallbackMethod_Ack<
        v1::Notifier::WithCallbackMethod_GetNotificationKeys<v1::Notifier::Service>>>>;

// gRPC adapter for v1::Notifier on the callback API: an open stream holds
// no thread. Subscribe needs a device access token; the stream is opened
// (presence, re-delivery from the outbox) on a work queue, then every
// notification offered to it is written from the thread that offered it,
// without waiting. A stream ends when the device leaves, the server drains,
// the device falls behind (SubscriberHub close_when_full), or the device
// (or its token) is revoked: one thread checks every open stream against
// `revocations` every `revocation_check_interval`. (The token's expiry is
// checked only when the stream opens: devices hold streams for hours.)
// Announce is a management RPC needing an operator token with role
// publisher. Ack needs the device's token; GetNotificationKeys is public.
// Announce, Ack and stream opening run on the work queue.
class GrpcNotifierService final : public NotifierCallbackBase {
 public:
  struct Options {
    // Threads for blocking work (PostgreSQL, Redis); about the PostgreSQL
    // pool size.
    int blocking_threads = 4;
    absl::Duration revocation_check_interval = absl::Milliseconds(500);
  };
  // All must outlive the adapter; `revocations` may be null.
  GrpcNotifierService(NotifierService& service, TokenVerifier& verifier, NotifierMetrics& metrics,
                      TokenVerifier& operator_verifier,
                      const RevocationChecker* revocations = nullptr);
  GrpcNotifierService(NotifierService& service, TokenVerifier& verifier, NotifierMetrics& metrics,
                      TokenVerifier& operator_verifier, const RevocationChecker* revocations,
                      Options options);
  ~GrpcNotifierService() override;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* Announce(grpc::CallbackServerContext* context,
                                     const v1::AnnounceRequest* request,
                                     v1::AnnounceResponse* response) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context, const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* GetNotificationKeys(grpc::CallbackServerContext* context,
                                                const v1::GetNotificationKeysRequest* request,
                                                v1::GetNotificationKeysResponse* response) override;

  // Streams currently open (attached to a subscription).
  size_t open_streams() const;

 private:
  friend class SubscribeReactor;
  void Track(SubscribeReactor* r);
  void Untrack(SubscribeReactor* r);
  void RevocationLoop();

  NotifierService& service_;
  TokenVerifier& verifier_;
  TokenVerifier& operator_verifier_;
  const RevocationChecker* revocations_;
  NotifierMetrics& metrics_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<SubscribeReactor*> open_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread revocation_thread_;
  // Last member: destroyed first, running what is queued while the rest is alive.
  WorkQueue work_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_GRPC_NOTIFIER_SERVICE_H_
