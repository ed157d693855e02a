#include "tools/fleet_sim/work_pool.h"

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace updraft::fleet_sim {
namespace {

TEST(WorkPoolTest, RunsEveryTaskWithBoundedConcurrency) {
  std::atomic<int> running{0}, max_running{0}, done{0};
  {
    WorkPool pool(3);
    for (int i = 0; i < 60; ++i) {
      pool.Post([&] {
        int now = ++running;
        int seen = max_running.load();
        while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
        }
        absl::SleepFor(absl::Milliseconds(1));
        --running;
        ++done;
      });
    }
    pool.WaitIdle();
    EXPECT_EQ(done.load(), 60);
  }
  EXPECT_LE(max_running.load(), 3);
  EXPECT_GE(max_running.load(), 1);
}

TEST(WorkPoolTest, DelayedTasksRunWhenDueAndInOrder) {
  WorkPool pool(1);
  absl::Mutex mu;
  std::vector<int> order;
  const absl::Time now = absl::Now();
  pool.PostAt(now + absl::Milliseconds(40), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(2);
  });
  pool.PostAt(now + absl::Milliseconds(20), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(1);
  });
  absl::MutexLock lock(&mu);
  auto two = [&] { return order.size() == 2; };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&two), absl::Seconds(30)));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(WorkPoolTest, DestructorDropsTasksNotDue) {
  std::atomic<int> ran{0};
  {
    WorkPool pool(2);
    pool.PostAt(absl::Now() + absl::Hours(1), [&] { ++ran; });
    pool.WaitIdle();  // a task due later does not count
  }
  EXPECT_EQ(ran.load(), 0);
}

}  // namespace
}  // namespace updraft::fleet_sim
