#include "services/catalog/background_check_observer.h"

#include <utility>

namespace updraft::catalog {

BackgroundCheckObserver::BackgroundCheckObserver(CampaignObserver* target, size_t max_queued,
                                                 absl::Duration linger, size_t batch)
    : target_(target), max_queued_(max_queued), linger_(linger), batch_(batch), thread_([this] {
        Run();
      }) {}

BackgroundCheckObserver::~BackgroundCheckObserver() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void BackgroundCheckObserver::OnCheck(const std::string& device_id,
                                      const v1::DeviceAttributes& attributes,
                                      const std::vector<std::string>& offered_release_ids) {
  absl::MutexLock lock(&mu_);
  ++queued_;
  if (queue_.size() >= max_queued_) {
    ++dropped_;
    ++done_;
    return;
  }
  queue_.push_back(Check{device_id, attributes, offered_release_ids});
}

void BackgroundCheckObserver::OnReport(const std::string& device_id, const std::string& release_id,
                                       v1::ResultCode result) {
  Flush();
  target_->OnReport(device_id, release_id, result);
}

void BackgroundCheckObserver::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_;
  auto handed_over = [this, target]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ >= target; };
  ++flushing_;
  mu_.Await(absl::Condition(&handed_over));
  --flushing_;
}

int64_t BackgroundCheckObserver::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void BackgroundCheckObserver::Run() {
  while (true) {
    std::deque<Check> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      auto hand_over = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || flushing_ > 0 || queue_.size() >= batch_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&hand_over), linger_);
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    for (const Check& check : batch) {
      target_->OnCheck(check.device_id, check.attributes, check.offered);
    }
    absl::MutexLock lock(&mu_);
    done_ += batch.size();
  }
}

}  // namespace updraft::catalog
