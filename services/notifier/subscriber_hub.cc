#include "services/notifier/subscriber_hub.h"

#include <vector>

namespace updraft::notifier {

Subscription::Subscription(std::string device_id, size_t capacity)
    : device_id_(std::move(device_id)), capacity_(capacity) {}

Subscription::~Subscription() = default;

std::optional<v1::Notification> Subscription::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_ || queue_.empty()) return std::nullopt;
  v1::Notification n = std::move(queue_.front());
  queue_.pop_front();
  return n;
}

bool Subscription::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

bool Subscription::Offer(const v1::Notification& n) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  if (queue_.size() >= capacity_) {
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(n);
  return true;
}

void Subscription::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

uint64_t Subscription::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::shared_ptr<Subscription> SubscriberHub::Subscribe(const std::string& device_id) {
  auto sub = std::make_shared<Subscription>(device_id, queue_capacity_);
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

int64_t SubscriberHub::Broadcast(const v1::Notification& n) {
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    absl::MutexLock lock(&mu_);
    targets.reserve(subs_.size());
    for (const auto& [id, sub] : subs_) targets.push_back(sub);
  }
  int64_t delivered = 0;
  for (const auto& sub : targets) delivered += sub->Offer(n) ? 1 : 0;
  return delivered;
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
  for (auto& [id, sub] : subs) sub->Close();
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
