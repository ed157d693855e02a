#ifndef UPDRAFT_TOOLS_FLEET_SIM_WORK_POOL_H_
#define UPDRAFT_TOOLS_FLEET_SIM_WORK_POOL_H_

#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace updraft::fleet_sim {

// A fixed number of worker threads running posted tasks, now or at a given
// time (the fleet simulator's bounded concurrency: at most `threads` devices
// log in, check or download at once). Tasks due at the same time run in
// posting order. The destructor drops tasks not yet due and joins.
class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Post(std::function<void()> task) { PostAt(absl::InfinitePast(), std::move(task)); }
  void PostAt(absl::Time when, std::function<void()> task);
  // Blocks until no task is queued as due or running (tasks scheduled for
  // later do not count).
  void WaitIdle();

 private:
  void Work();

  absl::Mutex mu_;
  std::multimap<absl::Time, std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace updraft::fleet_sim

#endif  // UPDRAFT_TOOLS_FLEET_SIM_WORK_POOL_H_
