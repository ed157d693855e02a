#include "services/notifier/grpc_notifier_service.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"
#include "prometheus/counter.h"

namespace updraft::notifier {

// One device's Subscribe call. Lives from the handler until OnDone; it is
// the StreamWriter of the device's Subscription once the stream is open.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                               public StreamWriter {
 public:
  SubscribeReactor(GrpcNotifierService* owner, grpc::CallbackServerContext* context)
      : owner_(owner), context_(context) {}

  // Fails the call before any stream exists.
  void Refuse(const absl::Status& status) { ServerWriteReactor::Finish(ToGrpcStatus(status)); }

  // On the work queue: presence, re-delivery, then the stream is live.
  void Open(AccessClaims claims) {
    claims_ = std::move(claims);
    auto opened = owner_->service_.OpenStream(claims_.subject);
    if (!opened.ok()) {
      Refuse(opened.status());
      return;
    }
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      sub_ = *std::move(opened);
      cancelled = cancelled_;
    }
    owner_->Track(this);
    owner_->metrics_.connected().Increment();
    if (cancelled) {
      Attach();  // and closes: the call ends at once
      return;
    }
    StartSendInitialMetadata();
  }

  std::shared_ptr<Subscription> subscription() {
    absl::MutexLock lock(&mu_);
    return sub_;
  }
  const AccessClaims& claims() const { return claims_; }

  // StreamWriter.
  void StartWrite(const PreparedNotification& n) override {
    ServerWriteReactor::StartWrite(&n.bytes());
  }
  void Finish(const absl::Status& status) override {
    ServerWriteReactor::Finish(ToGrpcStatus(status));
  }
  void Cancel() override { context_->TryCancel(); }

  // Reactions.
  void OnSendInitialMetadataDone(bool ok) override {
    Attach();
    if (!ok) sub_->Close(absl::CancelledError("the device went away"));
  }
  void OnWriteDone(bool ok) override { sub_->WriteDone(ok); }
  void OnCancel() override {
    std::shared_ptr<Subscription> sub;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (attached_) sub = sub_;
    }
    if (sub) sub->Close(absl::CancelledError("the device went away"));
  }
  void OnDone() override {
    std::shared_ptr<Subscription> sub = subscription();
    if (sub) {
      owner_->Untrack(this);
      sub->Detach();
      owner_->metrics_.connected().Decrement();
      NotifierService* service = &owner_->service_;
      owner_->work_.Submit([service, sub] { service->CloseStream(sub); });
    }
    delete this;
  }

 private:
  void Attach() {
    NotifierService* service = &owner_->service_;
    sub_->Attach(this, [service](const PreparedNotification& n) { return service->Live(n); });
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      attached_ = true;
      cancelled = cancelled_;
    }
    if (cancelled) sub_->Close(absl::CancelledError("the device went away"));
  }

  GrpcNotifierService* const owner_;
  grpc::CallbackServerContext* const context_;
  AccessClaims claims_;
  absl::Mutex mu_;
  std::shared_ptr<Subscription> sub_;  // set once by Open
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

GrpcNotifierService::GrpcNotifierService(NotifierService& service, TokenVerifier& verifier,
                                         NotifierMetrics& metrics, TokenVerifier& operator_verifier,
                                         const RevocationChecker* revocations)
    : GrpcNotifierService(service, verifier, metrics, operator_verifier, revocations, Options()) {}

GrpcNotifierService::GrpcNotifierService(NotifierService& service, TokenVerifier& verifier,
                                         NotifierMetrics& metrics, TokenVerifier& operator_verifier,
                                         const RevocationChecker* revocations, Options options)
    : service_(service),
      verifier_(verifier),
      operator_verifier_(operator_verifier),
      revocations_(revocations),
      metrics_(metrics),
      options_(options),
      work_(options.blocking_threads) {
  if (revocations_ != nullptr) revocation_thread_ = std::thread([this] { RevocationLoop(); });
}

GrpcNotifierService::~GrpcNotifierService() {
  stop_.Notify();
  if (revocation_thread_.joinable()) revocation_thread_.join();
}

void GrpcNotifierService::Track(SubscribeReactor* r) {
  absl::MutexLock lock(&mu_);
  open_.insert(r);
}

void GrpcNotifierService::Untrack(SubscribeReactor* r) {
  absl::MutexLock lock(&mu_);
  open_.erase(r);
}

size_t GrpcNotifierService::open_streams() const {
  absl::MutexLock lock(&mu_);
  return open_.size();
}

void GrpcNotifierService::RevocationLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.revocation_check_interval)) {
    std::vector<std::pair<std::shared_ptr<Subscription>, absl::Status>> revoked;
    {
      absl::MutexLock lock(&mu_);
      for (SubscribeReactor* r : open_) {
        absl::Status s = revocations_->Check(r->claims());
        if (!s.ok()) revoked.emplace_back(r->subscription(), std::move(s));
      }
    }
    for (auto& [sub, status] : revoked) sub->Close(status);
  }
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* GrpcNotifierService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  auto* reactor = new SubscribeReactor(this, context);
  v1::SubscribeRequest parsed;
  grpc::ByteBuffer copy(*request);
  grpc::ProtoBufferReader reader(&copy);
  if (!parsed.ParseFromZeroCopyStream(&reader)) {
    reactor->Refuse(absl::InvalidArgumentError("SubscribeRequest is not a valid message"));
    return reactor;
  }
  auto token = BearerToken(*context);
  if (!token.ok()) {
    reactor->Refuse(token.status());
    return reactor;
  }
  auto claims = verifier_.Verify(*token);
  if (!claims.ok()) {
    reactor->Refuse(claims.status());
    return reactor;
  }
  work_.Submit([reactor, c = *std::move(claims)]() mutable { reactor->Open(std::move(c)); });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcNotifierService::Announce(grpc::CallbackServerContext* context,
                                                        const v1::AnnounceRequest* request,
                                                        v1::AnnounceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto who = AuthorizeOperator(*context, operator_verifier_, Role::kPublisher, "Announce");
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  work_.Submit([this, reactor, request, response] {
    auto r = service_.Announce(*request);
    if (r.ok()) *response = *std::move(r);
    reactor->Finish(ToGrpcStatus(r.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcNotifierService::Ack(grpc::CallbackServerContext* context,
                                                   const v1::AckRequest* request,
                                                   v1::AckResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> device_id = AuthenticateDevice(*context, verifier_);
  if (!device_id.ok()) {
    reactor->Finish(ToGrpcStatus(device_id.status()));
    return reactor;
  }
  work_.Submit([this, reactor, request, device = *std::move(device_id)] {
    reactor->Finish(ToGrpcStatus(service_.Ack(device, request->notification_id())));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcNotifierService::GetNotificationKeys(
    grpc::CallbackServerContext* context, const v1::GetNotificationKeysRequest*,
    v1::GetNotificationKeysResponse* response) {
  for (const std::string& k : service_.PublicKeys()) response->add_public_keys(k);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace updraft::notifier
