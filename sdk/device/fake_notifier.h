#ifndef UPDRAFT_SDK_DEVICE_FAKE_NOTIFIER_H_
#define UPDRAFT_SDK_DEVICE_FAKE_NOTIFIER_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sdk/device/fake_services.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::device::testutil {

// An in-process Notifier for the SDK's push tests: serves the given keys,
// records acks, and plays scripted streams: each Subscribe takes the next
// script, writes its notifications and ends; the last script's stream stays
// open until the client cancels.
class FakeNotifierService final : public v1::Notifier::Service {
 public:
  explicit FakeNotifierService(FakeAuthService* auth) : auth_(auth) {}

  void SetKeys(std::vector<std::string> keys) {
    absl::MutexLock lock(&mu_);
    keys_ = std::move(keys);
  }
  void AddStream(std::vector<v1::Notification> notifications) {
    absl::MutexLock lock(&mu_);
    streams_.push_back(std::move(notifications));
  }
  std::vector<std::string> acks() const {
    absl::MutexLock lock(&mu_);
    return acks_;
  }
  int key_fetches() const {
    absl::MutexLock lock(&mu_);
    return key_fetches_;
  }
  int subscribes() const {
    absl::MutexLock lock(&mu_);
    return subscribes_;
  }

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest*,
                         grpc::ServerWriter<v1::Notification>* writer) override {
    if (!auth_->Authorized(*context)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid or expired token");
    }
    std::vector<v1::Notification> script;
    bool last;
    {
      absl::MutexLock lock(&mu_);
      ++subscribes_;
      if (!streams_.empty()) {
        script = std::move(streams_.front());
        streams_.pop_front();
      }
      last = streams_.empty();
    }
    writer->SendInitialMetadata();
    for (const v1::Notification& n : script) {
      if (!writer->Write(n)) return grpc::Status::OK;
    }
    if (!last) return grpc::Status::OK;
    while (!context->IsCancelled()) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&shutdown_), absl::Milliseconds(20));
      if (shutdown_) break;
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "stream closed");
  }
  grpc::Status Announce(grpc::ServerContext*, const v1::AnnounceRequest*,
                        v1::AnnounceResponse*) override {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not in the fake");
  }
  grpc::Status Ack(grpc::ServerContext* context, const v1::AckRequest* request,
                   v1::AckResponse*) override {
    if (!auth_->Authorized(*context)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid or expired token");
    }
    absl::MutexLock lock(&mu_);
    acks_.push_back(request->notification_id());
    return grpc::Status::OK;
  }
  grpc::Status GetNotificationKeys(grpc::ServerContext*, const v1::GetNotificationKeysRequest*,
                                   v1::GetNotificationKeysResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++key_fetches_;
    for (const std::string& k : keys_) response->add_public_keys(k);
    return grpc::Status::OK;
  }
  // Ends held streams (before the server shuts down).
  void Shutdown() {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }

 private:
  FakeAuthService* auth_;
  mutable absl::Mutex mu_;
  std::vector<std::string> keys_ ABSL_GUARDED_BY(mu_);
  std::deque<std::vector<v1::Notification>> streams_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> acks_ ABSL_GUARDED_BY(mu_);
  int key_fetches_ ABSL_GUARDED_BY(mu_) = 0;
  int subscribes_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace updraft::device::testutil

#endif  // UPDRAFT_SDK_DEVICE_FAKE_NOTIFIER_H_
