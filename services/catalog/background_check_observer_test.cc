#include "services/catalog/background_check_observer.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;

// Records calls; OnCheck can be held until released.
class Recorder : public CampaignObserver {
 public:
  void OnCheck(const std::string& device_id, const v1::DeviceAttributes& attributes,
               const std::vector<std::string>& offered) override {
    if (hold_ && !entered_.HasBeenNotified()) {
      entered_.Notify();
      release_.WaitForNotification();
    }
    absl::MutexLock lock(&mu_);
    calls_.push_back("check " + device_id + " " + attributes.model() + " " +
                     std::to_string(offered.size()));
    if (calls_.size() == notify_at_) reached_.Notify();
  }
  void OnReport(const std::string& device_id, const std::string& release_id,
                v1::ResultCode) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back("report " + device_id + " " + release_id);
  }
  std::vector<std::string> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  bool hold_ = false;
  size_t notify_at_ = 0;  // reached_ is notified when this many checks arrived
  absl::Notification reached_;
  absl::Notification entered_;
  absl::Notification release_;

 private:
  absl::Mutex mu_;
  std::vector<std::string> calls_;
};

v1::DeviceAttributes Model(const std::string& m) {
  v1::DeviceAttributes a;
  a.set_model(m);
  return a;
}

TEST(BackgroundCheckObserverTest, ChecksAreHandedOverInOrderAndReportsAfterThem) {
  Recorder recorder;
  BackgroundCheckObserver observer(&recorder);
  observer.OnCheck("d1", Model("A1"), {"rel_1"});
  observer.OnCheck("d2", Model("B2"), {});
  observer.OnReport("d1", "rel_1", v1::SUCCESS);
  EXPECT_THAT(recorder.calls(), ElementsAre("check d1 A1 1", "check d2 B2 0", "report d1 rel_1"));
}

TEST(BackgroundCheckObserverTest, AFullQueueDropsChecksInsteadOfBlockingTheDevice) {
  Recorder recorder;
  recorder.hold_ = true;
  {
    BackgroundCheckObserver observer(&recorder, /*max_queued=*/2);
    // The worker takes one check and is held; two more fill the queue.
    observer.OnCheck("d0", Model("A"), {});
    recorder.entered_.WaitForNotification();
    for (int i = 1; i <= 5; ++i) observer.OnCheck("d" + std::to_string(i), Model("A"), {});
    EXPECT_EQ(observer.dropped(), 3);
    recorder.release_.Notify();
    observer.Flush();
    EXPECT_EQ(recorder.calls().size() + observer.dropped(), 6u);
  }
}

TEST(BackgroundCheckObserverTest, DestructionHandsOverWhatIsQueued) {
  Recorder recorder;
  {
    BackgroundCheckObserver observer(&recorder);
    for (int i = 0; i < 100; ++i) observer.OnCheck("d", Model("A"), {});
  }
  EXPECT_EQ(recorder.calls().size(), 100u);
}

TEST(BackgroundCheckObserverTest, AFullBatchIsHandedOverWithoutWaitingForTheLinger) {
  Recorder recorder;
  recorder.notify_at_ = 3;
  BackgroundCheckObserver observer(&recorder, 100, absl::InfiniteDuration(), /*batch=*/3);
  for (int i = 0; i < 3; ++i) observer.OnCheck("d" + std::to_string(i), Model("A"), {});
  recorder.reached_.WaitForNotification();  // hangs (the test times out) if it lingered
  EXPECT_THAT(recorder.calls(), ElementsAre("check d0 A 0", "check d1 A 0", "check d2 A 0"));
}

TEST(BackgroundCheckObserverTest, ReportsCutTheLingerShort) {
  Recorder recorder;
  BackgroundCheckObserver observer(&recorder, 100, absl::InfiniteDuration(), /*batch=*/1000);
  observer.OnCheck("d1", Model("A1"), {"rel_1"});
  observer.OnCheck("d2", Model("B2"), {});
  observer.OnReport("d1", "rel_1", v1::SUCCESS);  // hangs if the worker kept lingering
  EXPECT_THAT(recorder.calls(), ElementsAre("check d1 A1 1", "check d2 B2 0", "report d1 rel_1"));
}

}  // namespace
}  // namespace updraft::catalog
