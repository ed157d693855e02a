#include "services/notifier/work_queue.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

TEST(WorkQueueTest, RunsEveryJob) {
  std::atomic<int> ran{0};
  absl::BlockingCounter done(100);
  WorkQueue q(3);
  for (int i = 0; i < 100; ++i) {
    q.Submit([&] {
      ++ran;
      done.DecrementCount();
    });
  }
  done.Wait();
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkQueueTest, DestructorRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  absl::Notification started, release;
  {
    WorkQueue q(1);
    q.Submit([&] {
      started.Notify();
      release.WaitForNotification();
    });
    started.WaitForNotification();
    for (int i = 0; i < 5; ++i) q.Submit([&] { ++ran; });
    EXPECT_EQ(q.pending(), 5u);  // the single thread is still blocked
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace updraft::notifier
