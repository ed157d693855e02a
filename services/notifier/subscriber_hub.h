#ifndef UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_
#define UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/notifier/work_queue.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// A notification serialised once. Every stream that writes it shares the
// same bytes (one reference-counted slice), so a fan-out to N streams costs
// one serialisation and N reference increments, not N copies.
class PreparedNotification {
 public:
  explicit PreparedNotification(v1::Notification n);
  static std::shared_ptr<const PreparedNotification> Make(v1::Notification n);

  const v1::Notification& notification() const { return notification_; }
  // The serialised v1::Notification, ready for a raw gRPC write.
  const grpc::ByteBuffer& bytes() const { return bytes_; }
  absl::Time expires() const { return absl::FromUnixSeconds(notification_.expires_at_unix()); }

 private:
  v1::Notification notification_;
  grpc::ByteBuffer bytes_;
};
using PreparedPtr = std::shared_ptr<const PreparedNotification>;

// Where an attached Subscription writes: the gRPC stream (a callback
// reactor). StartWrite and Cancel never block; the writer reports each
// write's end with Subscription::WriteDone. Finish ends the stream; it is
// called once, when no write is in flight.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual void StartWrite(const PreparedNotification& n) = 0;
  virtual void Finish(const absl::Status& status) = 0;
  // Aborts the stream (a write that cannot complete ends with ok = false).
  virtual void Cancel() = 0;
};

// One device's IP Push stream on this replica: a bounded queue of
// notifications waiting to be written. Created by SubscriberHub::Subscribe.
// Two ways to drain it: pull (Next, for tests and simple handlers) or push
// (Attach a StreamWriter: each Offer starts a write at once when none is in
// flight, so an idle stream needs no thread). At most one write is in
// flight; a reader that falls more than `capacity` notifications behind
// either loses the oldest (default) or, with close_when_full, is closed and
// cancelled so its memory is freed; the outbox re-delivers on reconnect.
class Subscription {
 public:
  Subscription(std::string device_id, size_t capacity, bool close_when_full = false);
  ~Subscription();

  const std::string& device_id() const { return device_id_; }
  // The next notification, or nullopt when `timeout` passes or the
  // subscription was closed (closed() tells which). Pull mode only.
  std::optional<v1::Notification> Next(absl::Duration timeout);
  bool closed() const;
  // Queues `n` (and in push mode starts its write). Returns false when
  // closed, or when this offer overflowed a close_when_full queue.
  bool Offer(const v1::Notification& n);
  bool Offer(PreparedPtr n);
  // Queues `n` whatever the capacity: what the outbox re-delivers as the
  // stream opens (bounded by the device's unacknowledged notifications) is
  // not a reader falling behind. False when closed.
  bool OfferBacklog(PreparedPtr n);
  // Ends the stream with UNAVAILABLE (reconnect), or with `status`.
  void Close();
  void Close(absl::Status status);
  uint64_t dropped() const;
  // True when it was closed because its reader fell behind.
  bool overflowed() const;

  // Push mode: writes go to `writer` from now on; `deliverable` filters
  // (e.g. skips expired notifications). `writer` must stay valid until
  // Detach, which its owner calls once Finish was called.
  void Attach(StreamWriter* writer, std::function<bool(const PreparedNotification&)> deliverable);
  void WriteDone(bool ok);
  void Detach();

 private:
  // Starts the next write, cancels, or finishes, as the state requires.
  void Pump();
  bool Push(PreparedPtr n, bool bounded, bool* overflow);

  const std::string device_id_;
  const size_t capacity_;
  const bool close_when_full_;
  mutable absl::Mutex mu_;
  std::deque<PreparedPtr> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  // Push mode.
  StreamWriter* writer_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::function<bool(const PreparedNotification&)> deliverable_ ABSL_GUARDED_BY(mu_);
  PreparedPtr in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  int calls_out_ ABSL_GUARDED_BY(mu_) = 0;  // StartWrite/Cancel calls still returning
};

// The IP Push streams held on this replica, by device. A device that opens a
// second stream replaces its first (the old one is closed), so one device
// holds at most one stream per replica. SendToMany offers one prepared
// notification to many devices from `fanout_threads` threads at once (each
// takes a share), so writes start from every core; a write never waits for
// a slow reader.
class SubscriberHub {
 public:
  struct Options {
    size_t queue_capacity = 16;
    bool close_when_full = false;
    // 0: offers run on the calling thread.
    int fanout_threads = 0;
  };
  explicit SubscriberHub(size_t queue_capacity = 16) : SubscriberHub(Options{queue_capacity}) {}
  explicit SubscriberHub(Options options);
  ~SubscriberHub();

  std::shared_ptr<Subscription> Subscribe(const std::string& device_id);
  // Removes `sub` if it is still the device's current stream.
  void Unsubscribe(const std::shared_ptr<Subscription>& sub);
  // Queues `n` on every stream; returns how many took it.
  int64_t Broadcast(const v1::Notification& n);
  // Queues `n` on one device's stream; false when it has none here.
  bool SendTo(const std::string& device_id, const v1::Notification& n);
  // Queues `n` on the streams of these devices held here; returns how many
  // took it. Returns once every offer was made (writes may still run).
  int64_t SendToMany(const std::vector<std::string>& device_ids, const PreparedPtr& n);
  size_t size() const;
  bool Contains(const std::string& device_id) const;
  // Devices holding a stream here.
  std::vector<std::string> Devices() const;
  // Closes every stream (graceful drain on shutdown).
  void CloseAll();

 private:
  // Runs `fn` on every target, split over the fan-out threads and the
  // caller; returns how many returned true.
  int64_t ForShares(const std::vector<std::shared_ptr<Subscription>>& targets,
                    const std::function<bool(Subscription&)>& fn);
  int64_t OfferAll(const std::vector<std::shared_ptr<Subscription>>& targets, const PreparedPtr& n);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Subscription>> subs_ ABSL_GUARDED_BY(mu_);

  // Fan-out workers (none when fanout_threads is 0): each job is one share
  // of one SendToMany.
  std::unique_ptr<WorkQueue> fanout_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_
