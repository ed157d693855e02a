#include "sdk/device/ip_push_listener.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft::device {

absl::StatusOr<std::unique_ptr<IpPushListener>> IpPushListener::Create(Options options) {
  if (options.handler == nullptr) {
    return absl::InvalidArgumentError("IpPushListener::Options.handler is required");
  }
  if (absl::Status s = PolicyOf(options).Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("IpPushListener::Options: ", s.message()));
  }
  if (!options.on_notification) {
    PushHandler* handler = options.handler;
    options.on_notification = [handler](const NotificationFields&) {
      handler->RunActiveUpgrade().IgnoreError();
    };
  }
  return std::unique_ptr<IpPushListener>(new IpPushListener(std::move(options)));
}

IpPushListener::IpPushListener(Options options) : options_(std::move(options)) {}

IpPushListener::~IpPushListener() { Stop(); }

void IpPushListener::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stop_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void IpPushListener::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

int IpPushListener::streams_opened() const {
  absl::MutexLock lock(&mu_);
  return streams_opened_;
}

bool IpPushListener::stopping() const {
  absl::MutexLock lock(&mu_);
  return stop_;
}

void IpPushListener::Wait(absl::Duration d) {
  if (options_.sleep) {
    options_.sleep(d);
    return;
  }
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
}

ReconnectPolicy IpPushListener::PolicyOf(const Options& options) {
  return {.initial = options.initial_backoff,
          .multiplier = options.multiplier,
          .jitter = options.jitter,
          .cap = options.max_backoff};
}

void IpPushListener::Run() {
  std::mt19937_64 rng(std::random_device{}());
  const ReconnectPolicy policy = PolicyOf(options_);
  ReconnectBackoff backoff(&policy);
  while (!stopping()) {
    bool delivered = false;
    absl::Status ended = RunStream(&delivered);
    if (stopping()) break;
    if (options_.on_stream_end) options_.on_stream_end(ended);
    if (delivered) backoff.Reset();
    Wait(backoff.Next(rng));
  }
}

absl::Status IpPushListener::RunStream(bool* delivered) {
  absl::StatusOr<std::string> token = options_.handler->AccessToken();
  if (!token.ok()) return token.status();
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::CancelledError("stopped");
    active_ = &ctx;
    ++streams_opened_;
  }
  auto reader = options_.handler->notifier().Subscribe(&ctx, v1::SubscribeRequest());
  v1::Notification n;
  while (reader->Read(&n)) {
    absl::StatusOr<NotificationFields> fields = options_.handler->Verify(n.signed_());
    if (absl::IsAlreadyExists(fields.status())) {
      // Delivered again (an earlier ack was lost): confirm receipt, no flow.
      options_.handler->Acknowledge(n.notification_id()).IgnoreError();
    }
    if (!fields.ok()) {
      if (options_.on_rejected) options_.on_rejected(fields.status());
      continue;
    }
    *delivered = true;
    absl::Status acked = options_.handler->Acknowledge(NotificationIdHex(fields->id));
    if (!acked.ok() && options_.on_rejected) options_.on_rejected(acked);
    options_.on_notification(*fields);
  }
  grpc::Status s = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    active_ = nullptr;
  }
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) options_.handler->ForgetToken();
  absl::Status status = FromGrpcStatus(s);
  if (status.ok()) return absl::UnavailableError("notifier ended the IP Push stream");
  return absl::Status(status.code(), absl::StrCat("IP Push stream ended: ", s.error_message()));
}

}  // namespace updraft::device
