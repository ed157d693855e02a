#ifndef UPDRAFT_SDK_DEVICE_IP_PUSH_LISTENER_H_
#define UPDRAFT_SDK_DEVICE_IP_PUSH_LISTENER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/notification_format.h"
#include "sdk/device/push_handler.h"
#include "sdk/device/reconnect_backoff.h"

namespace updraft::device {

// Holds the IP Push stream (Notifier.Subscribe, design.md section 1) in a
// background thread while the device is online: every notification that
// arrives is verified like an SMS (PushHandler::Verify), acknowledged, and
// handed to `on_notification` (default: the active-upgrade flow). When the
// stream ends or cannot be opened it is re-opened after an exponential
// backoff with jitter (reset once a stream delivered something); the
// channel's keepalive (MakeStreamChannel) notices dead links.
class IpPushListener {
 public:
  struct Options {
    PushHandler* handler = nullptr;  // not owned; must outlive the listener
    // Called on the listener thread for every accepted notification.
    std::function<void(const NotificationFields&)> on_notification;
    // Optional: every notification rejected, and every end of the stream.
    std::function<void(const absl::Status&)> on_rejected;
    std::function<void(const absl::Status&)> on_stream_end;
    // Reconnect policy (ReconnectPolicy: design.md section 5, gRPC's
    // connection backoff): wait initial_backoff, then multiply by
    // `multiplier` up to max_backoff; each wait is spread uniformly by
    // +-jitter of itself, so devices cut off together (a notifier restart)
    // do not come back in the same second. Reset once a stream delivered.
    absl::Duration initial_backoff = absl::Seconds(1);
    double multiplier = 1.6;
    absl::Duration max_backoff = absl::Seconds(120);
    double jitter = 0.2;
    // Waits between attempts; returns early when Stop is called. Tests
    // inject one that records the waits.
    std::function<void(absl::Duration)> sleep;
  };

  // INVALID_ARGUMENT when `handler` is missing or the backoff is not
  // positive.
  static absl::StatusOr<std::unique_ptr<IpPushListener>> Create(Options options);
  ~IpPushListener();

  // Starts the background thread (once).
  void Start();
  // Cancels the stream, interrupts a wait and joins the thread.
  void Stop();

  // Streams opened so far (for status displays and tests).
  int streams_opened() const;

 private:
  explicit IpPushListener(Options options);
  static ReconnectPolicy PolicyOf(const Options& options);
  void Run();
  // One stream: returns how it ended and whether it delivered anything.
  absl::Status RunStream(bool* delivered);
  void Wait(absl::Duration d);
  bool stopping() const;

  Options options_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_IP_PUSH_LISTENER_H_
