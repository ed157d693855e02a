#include "sdk/device/periodic_checker.h"

#include <algorithm>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "gtest/gtest.h"

namespace updraft::device {
namespace {

class PeriodicCheckerTest : public ::testing::Test {
 protected:
  std::unique_ptr<PeriodicChecker> Make(PeriodicChecker::Options o) {
    o.clock = &clock_;
    o.seed = 42;
    if (!o.check) {
      o.check = [this] {
        ran_at_.push_back(clock_.Now());
        return next_status_;
      };
    }
    auto c = PeriodicChecker::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  FakeClock clock_;
  std::vector<absl::Time> ran_at_;
  absl::Status next_status_;
};

TEST_F(PeriodicCheckerTest, RunsOnlyWhenDueWithinTheJitter) {
  PeriodicChecker::Options o;
  o.interval = absl::Hours(1);
  o.jitter = 0.2;
  o.first_delay_max = absl::ZeroDuration();
  auto c = Make(o);
  EXPECT_TRUE(c->RunIfDue());  // first check at once
  EXPECT_FALSE(c->RunIfDue());
  for (int i = 0; i < 20; ++i) {
    absl::Duration wait = c->next_check() - clock_.Now();
    EXPECT_GE(wait, absl::Minutes(48));
    EXPECT_LE(wait, absl::Minutes(72));
    clock_.Advance(wait - absl::Seconds(1));
    EXPECT_FALSE(c->RunIfDue());
    clock_.Advance(absl::Seconds(1));
    EXPECT_TRUE(c->RunIfDue());
  }
  EXPECT_EQ(c->checks_run(), 21);
  EXPECT_EQ(ran_at_.size(), 21u);
}

TEST_F(PeriodicCheckerTest, WaitsAreSpreadNotConstant) {
  PeriodicChecker::Options o;
  o.interval = absl::Hours(1);
  o.jitter = 0.5;
  o.first_delay_max = absl::ZeroDuration();
  auto c = Make(o);
  absl::Duration min = absl::InfiniteDuration(), max = absl::ZeroDuration();
  for (int i = 0; i < 50; ++i) {
    clock_.Advance(c->next_check() - clock_.Now());
    ASSERT_TRUE(c->RunIfDue());
    absl::Duration wait = c->next_check() - clock_.Now();
    min = std::min(min, wait);
    max = std::max(max, wait);
  }
  EXPECT_GT(max - min, absl::Minutes(20));
}

TEST_F(PeriodicCheckerTest, FirstCheckIsSpreadOverTheFirstDelay) {
  PeriodicChecker::Options o;
  o.interval = absl::Hours(6);
  o.first_delay_max = absl::Hours(1);
  auto c = Make(o);
  EXPECT_LE(c->next_check() - clock_.Now(), absl::Hours(1));
  PeriodicChecker::Options d;
  d.interval = absl::Hours(6);
  auto c2 = Make(d);
  EXPECT_LE(c2->next_check() - clock_.Now(), absl::Hours(6));
}

TEST_F(PeriodicCheckerTest, FailureRetriesSooner) {
  PeriodicChecker::Options o;
  o.interval = absl::Hours(24);
  o.retry_interval = absl::Minutes(10);
  o.jitter = 0.1;
  o.first_delay_max = absl::ZeroDuration();
  auto c = Make(o);
  next_status_ = absl::UnavailableError("catalog unreachable");
  ASSERT_TRUE(c->RunIfDue());
  EXPECT_TRUE(absl::IsUnavailable(c->last_status()));
  EXPECT_LE(c->next_check() - clock_.Now(), absl::Minutes(11));
  next_status_ = absl::OkStatus();
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(c->RunIfDue());
  EXPECT_TRUE(c->last_status().ok());
  EXPECT_GE(c->next_check() - clock_.Now(), absl::Hours(21));
}

TEST_F(PeriodicCheckerTest, BackgroundThreadRunsADueCheckAndStops) {
  PeriodicChecker::Options o;
  o.interval = absl::Hours(1);
  o.first_delay_max = absl::ZeroDuration();
  absl::Notification ran;
  o.check = [&] {
    if (!ran.HasBeenNotified()) ran.Notify();
    return absl::OkStatus();
  };
  auto c = Make(o);
  c->Start();
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  c->Stop();  // interrupts the (fake) hour-long wait at once
  EXPECT_EQ(c->checks_run(), 1);
}

TEST_F(PeriodicCheckerTest, BadOptions) {
  PeriodicChecker::Options o;
  EXPECT_TRUE(absl::IsInvalidArgument(PeriodicChecker::Create(o).status()));
  o.check = [] { return absl::OkStatus(); };
  o.interval = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsInvalidArgument(PeriodicChecker::Create(o).status()));
  o.interval = absl::Hours(1);
  o.jitter = 1.0;
  EXPECT_TRUE(absl::IsInvalidArgument(PeriodicChecker::Create(o).status()));
  o.jitter = -0.1;
  EXPECT_TRUE(absl::IsInvalidArgument(PeriodicChecker::Create(o).status()));
  o.jitter = 0.1;
  o.retry_interval = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsInvalidArgument(PeriodicChecker::Create(o).status()));
}

}  // namespace
}  // namespace updraft::device
