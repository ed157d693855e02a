#include "tools/fleet_sim/work_pool.h"

#include <algorithm>

namespace updraft::fleet_sim {

WorkPool::WorkPool(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Work(); });
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void WorkPool::PostAt(absl::Time when, std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.emplace(when, std::move(task));
}

void WorkPool::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_ == 0 && (tasks_.empty() || tasks_.begin()->first > absl::Now());
  };
  while (!idle()) mu_.AwaitWithTimeout(absl::Condition(&idle), absl::Milliseconds(50));
}

void WorkPool::Work() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || (!tasks_.empty() && tasks_.begin()->first <= absl::Now());
    };
    absl::Duration wait = tasks_.empty() ? absl::Seconds(1)
                                         : std::clamp(tasks_.begin()->first - absl::Now(),
                                                      absl::ZeroDuration(), absl::Seconds(1));
    mu_.AwaitWithTimeout(absl::Condition(&due), wait);
    if (stop_) return;
    if (tasks_.empty() || tasks_.begin()->first > absl::Now()) continue;
    std::function<void()> task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    ++running_;
    mu_.Unlock();
    task();
    mu_.Lock();
    --running_;
  }
}

}  // namespace updraft::fleet_sim
