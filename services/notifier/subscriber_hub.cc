#include "services/notifier/subscriber_hub.h"

#include <grpcpp/impl/grpc_library.h>
#include <grpcpp/support/slice.h>

#include <algorithm>
#include <vector>

#include "absl/synchronization/blocking_counter.h"

namespace updraft::notifier {
namespace {

constexpr char kClosedByServer[] = "stream closed by the server (replaced or draining); reconnect";

// A share smaller than this is not worth a hand-off to another thread.
constexpr size_t kMinShare = 256;

}  // namespace

PreparedNotification::PreparedNotification(v1::Notification n) : notification_(std::move(n)) {
  static grpc::internal::GrpcLibraryInitializer* init = new grpc::internal::GrpcLibraryInitializer;
  (void)init->summon();
  grpc::Slice slice(notification_.SerializeAsString());
  bytes_ = grpc::ByteBuffer(&slice, 1);
}

PreparedPtr PreparedNotification::Make(v1::Notification n) {
  return std::make_shared<const PreparedNotification>(std::move(n));
}

Subscription::Subscription(std::string device_id, size_t capacity, bool close_when_full)
    : device_id_(std::move(device_id)),
      capacity_(std::max<size_t>(capacity, 1)),
      close_when_full_(close_when_full) {}

Subscription::~Subscription() = default;

std::optional<v1::Notification> Subscription::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_ || queue_.empty()) return std::nullopt;
  PreparedPtr n = std::move(queue_.front());
  queue_.pop_front();
  return n->notification();
}

bool Subscription::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

bool Subscription::overflowed() const {
  absl::MutexLock lock(&mu_);
  return overflowed_;
}

bool Subscription::Push(PreparedPtr n, bool bounded, bool* overflow) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  if (bounded && queue_.size() >= capacity_) {
    if (close_when_full_) {
      // Its reader fell behind: free the backlog and end the stream; the
      // device reconnects and the outbox re-delivers what it did not ack.
      dropped_ += queue_.size() + 1;
      queue_.clear();
      closed_ = true;
      overflowed_ = true;
      close_status_ = absl::UnavailableError(
          "the device fell behind reading its notifications; reconnect to receive them again");
      *overflow = true;
      return false;
    }
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(std::move(n));
  return true;
}

bool Subscription::Offer(PreparedPtr n) {
  bool overflow = false;
  bool taken = Push(std::move(n), /*bounded=*/true, &overflow);
  if (taken || overflow) Pump();
  return taken;
}

bool Subscription::OfferBacklog(PreparedPtr n) {
  bool overflow = false;
  bool taken = Push(std::move(n), /*bounded=*/false, &overflow);
  if (taken) Pump();
  return taken;
}

bool Subscription::Offer(const v1::Notification& n) { return Offer(PreparedNotification::Make(n)); }

void Subscription::Close() { Close(absl::UnavailableError(kClosedByServer)); }

void Subscription::Close(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      closed_ = true;
      close_status_ = std::move(status);
    }
  }
  Pump();
}

uint64_t Subscription::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void Subscription::Attach(StreamWriter* writer,
                          std::function<bool(const PreparedNotification&)> deliverable) {
  {
    absl::MutexLock lock(&mu_);
    writer_ = writer;
    deliverable_ = std::move(deliverable);
  }
  Pump();
}

void Subscription::WriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok && !closed_) {
      closed_ = true;
      close_status_ = absl::CancelledError("the device went away");
    }
  }
  Pump();
}

void Subscription::Detach() {
  absl::MutexLock lock(&mu_);
  writer_ = nullptr;
  queue_.clear();
}

void Subscription::Pump() {
  while (true) {
    enum class Step { kWrite, kCancel, kFinish } step;
    StreamWriter* w = nullptr;
    PreparedPtr item;
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (writer_ == nullptr || finish_called_) return;
      w = writer_;
      if (closed_) {
        if (writing_) {
          // Normally the write completes and Finish follows; a reader that
          // fell behind may never complete it, so its stream is cancelled.
          if (!overflowed_ || cancel_sent_) return;
          cancel_sent_ = true;
          ++calls_out_;
          step = Step::kCancel;
        } else {
          if (calls_out_ > 0) return;  // the caller still inside Cancel/StartWrite finishes
          finish_called_ = true;
          queue_.clear();
          status = close_status_;
          step = Step::kFinish;
        }
      } else {
        if (writing_) return;
        while (!queue_.empty() && !item) {
          PreparedPtr p = std::move(queue_.front());
          queue_.pop_front();
          if (!deliverable_ || deliverable_(*p)) item = std::move(p);
        }
        if (!item) return;
        writing_ = true;
        in_flight_ = item;
        ++calls_out_;
        step = Step::kWrite;
      }
    }
    switch (step) {
      case Step::kFinish:
        w->Finish(status);
        return;
      case Step::kCancel:
        w->Cancel();
        break;
      case Step::kWrite:
        w->StartWrite(*item);
        break;
    }
    absl::MutexLock lock(&mu_);
    --calls_out_;
  }
}

SubscriberHub::SubscriberHub(Options options) : options_(options) {
  if (options_.fanout_threads > 0) fanout_ = std::make_unique<WorkQueue>(options_.fanout_threads);
}

SubscriberHub::~SubscriberHub() = default;

std::shared_ptr<Subscription> SubscriberHub::Subscribe(const std::string& device_id) {
  auto sub =
      std::make_shared<Subscription>(device_id, options_.queue_capacity, options_.close_when_full);
  std::shared_ptr<Subscription> old;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = subs_[device_id];
    old = std::move(slot);
    slot = sub;
  }
  if (old) old->Close();
  return sub;
}

void SubscriberHub::Unsubscribe(const std::shared_ptr<Subscription>& sub) {
  absl::MutexLock lock(&mu_);
  auto it = subs_.find(sub->device_id());
  if (it != subs_.end() && it->second == sub) subs_.erase(it);
}

int64_t SubscriberHub::ForShares(const std::vector<std::shared_ptr<Subscription>>& targets,
                                 const std::function<bool(Subscription&)>& fn) {
  const size_t shares = std::min<size_t>(std::max(options_.fanout_threads, 0) + 1,
                                         std::max<size_t>(1, targets.size() / kMinShare));
  if (shares <= 1) {
    int64_t taken = 0;
    for (const auto& sub : targets) taken += fn(*sub) ? 1 : 0;
    return taken;
  }
  std::vector<int64_t> taken(shares, 0);
  const size_t per = (targets.size() + shares - 1) / shares;
  auto run = [&](size_t share) {
    const size_t end = std::min(targets.size(), (share + 1) * per);
    for (size_t i = share * per; i < end; ++i) taken[share] += fn(*targets[i]) ? 1 : 0;
  };
  absl::BlockingCounter done(static_cast<int>(shares - 1));
  for (size_t s = 1; s < shares; ++s) {
    fanout_->Submit([&run, &done, s] {
      run(s);
      done.DecrementCount();
    });
  }
  run(0);
  done.Wait();
  int64_t total = 0;
  for (int64_t t : taken) total += t;
  return total;
}

int64_t SubscriberHub::OfferAll(const std::vector<std::shared_ptr<Subscription>>& targets,
                                const PreparedPtr& n) {
  return ForShares(targets, [&n](Subscription& sub) { return sub.Offer(n); });
}

int64_t SubscriberHub::Broadcast(const v1::Notification& n) {
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    absl::MutexLock lock(&mu_);
    targets.reserve(subs_.size());
    for (const auto& [id, sub] : subs_) targets.push_back(sub);
  }
  return OfferAll(targets, PreparedNotification::Make(n));
}

int64_t SubscriberHub::SendToMany(const std::vector<std::string>& device_ids,
                                  const PreparedPtr& n) {
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    absl::MutexLock lock(&mu_);
    targets.reserve(device_ids.size());
    for (const std::string& d : device_ids) {
      auto it = subs_.find(d);
      if (it != subs_.end()) targets.push_back(it->second);
    }
  }
  return OfferAll(targets, n);
}

bool SubscriberHub::SendTo(const std::string& device_id, const v1::Notification& n) {
  std::shared_ptr<Subscription> sub;
  {
    absl::MutexLock lock(&mu_);
    auto it = subs_.find(device_id);
    if (it == subs_.end()) return false;
    sub = it->second;
  }
  return sub->Offer(n);
}

size_t SubscriberHub::size() const {
  absl::MutexLock lock(&mu_);
  return subs_.size();
}

void SubscriberHub::CloseAll() {
  absl::flat_hash_map<std::string, std::shared_ptr<Subscription>> subs;
  {
    absl::MutexLock lock(&mu_);
    subs.swap(subs_);
  }
  std::vector<std::shared_ptr<Subscription>> targets;
  targets.reserve(subs.size());
  for (auto& [id, sub] : subs) targets.push_back(sub);
  ForShares(targets, [](Subscription& sub) {
    sub.Close();
    return true;
  });
}

bool SubscriberHub::Contains(const std::string& device_id) const {
  absl::MutexLock lock(&mu_);
  return subs_.contains(device_id);
}

std::vector<std::string> SubscriberHub::Devices() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(subs_.size());
  for (const auto& [device, sub] : subs_) out.push_back(device);
  return out;
}

}  // namespace updraft::notifier
