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
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "IpPushListener::Options: initial_backoff must be positive and at most max_backoff");
  }
  if (options.multiplier < 1) {
    return absl::InvalidArgumentError("IpPushListener::Options.multiplier must be at least 1");
  }
  if (options.jitter < 0 || options.jitter > 1) {
    return absl::InvalidArgumentError("IpPushListener::Options.jitter must be within [0, 1]");
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

void IpPushListener::Run() {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> spread(-1.0, 1.0);
  absl::Duration backoff = options_.initial_backoff;
  while (!stopping()) {
    bool delivered = false;
    absl::Status ended = RunStream(&delivered);
    if (stopping()) break;
    if (options_.on_stream_end) options_.on_stream_end(ended);
    if (delivered) backoff = options_.initial_backoff;
    Wait(backoff * (1.0 + options_.jitter * spread(rng)));
    backoff = std::min(backoff * options_.multiplier, options_.max_backoff);
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
