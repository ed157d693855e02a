#ifndef UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_
#define UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

class SubscriberHub;

// One device's IP Push stream on this replica: a bounded queue of
// notifications waiting to be written. Created by SubscriberHub::Subscribe;
// the stream handler calls Next() until it returns nullopt.
class Subscription {
 public:
  Subscription(std::string device_id, size_t capacity);
  ~Subscription();

  const std::string& device_id() const { return device_id_; }
  // The next notification, or nullopt when `timeout` passes or the
  // subscription was closed (closed() tells which).
  std::optional<v1::Notification> Next(absl::Duration timeout);
  bool closed() const;
  // Drops the oldest notification when full: a push is only a hint, and the
  // device re-checks the catalog anyway. Returns false when closed.
  bool Offer(const v1::Notification& n);
  void Close();
  uint64_t dropped() const;

 private:
  const std::string device_id_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<v1::Notification> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// The IP Push streams held on this replica, by device. A device that opens a
// second stream replaces its first (the old one is closed), so one device
// holds at most one stream per replica.
class SubscriberHub {
 public:
  explicit SubscriberHub(size_t queue_capacity = 16) : queue_capacity_(queue_capacity) {}

  std::shared_ptr<Subscription> Subscribe(const std::string& device_id);
  // Removes `sub` if it is still the device's current stream.
  void Unsubscribe(const std::shared_ptr<Subscription>& sub);
  // Queues `n` on every stream; returns how many took it.
  int64_t Broadcast(const v1::Notification& n);
  // Queues `n` on one device's stream; false when it has none here.
  bool SendTo(const std::string& device_id, const v1::Notification& n);
  size_t size() const;
  bool Contains(const std::string& device_id) const;
  // Devices holding a stream here.
  std::vector<std::string> Devices() const;
  // Closes every stream (graceful drain on shutdown).
  void CloseAll();

 private:
  const size_t queue_capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Subscription>> subs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_SUBSCRIBER_HUB_H_
