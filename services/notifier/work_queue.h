#ifndef UPDRAFT_SERVICES_NOTIFIER_WORK_QUEUE_H_
#define UPDRAFT_SERVICES_NOTIFIER_WORK_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace updraft::notifier {

// A fixed set of threads running submitted jobs in order of submission. The
// gRPC callback handlers hand their blocking work (PostgreSQL, Redis) to it,
// so gRPC's own threads never wait on a database. The destructor runs what
// is still queued, then joins.
class WorkQueue {
 public:
  explicit WorkQueue(int threads);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Submit(std::function<void()> job);
  // Jobs waiting (not yet started).
  size_t pending() const;

 private:
  void Loop();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_WORK_QUEUE_H_
