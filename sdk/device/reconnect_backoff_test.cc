#include "sdk/device/reconnect_backoff.h"

#include <random>

#include "gtest/gtest.h"

namespace updraft::device {
namespace {

TEST(ReconnectBackoffTest, GrowsByTheMultiplierUpToTheCapAndResets) {
  ReconnectPolicy p{
      .initial = absl::Seconds(1), .multiplier = 2, .jitter = 0, .cap = absl::Seconds(5)};
  ReconnectBackoff b(&p);
  std::mt19937_64 rng(1);
  EXPECT_EQ(b.Next(rng), absl::Seconds(1));
  EXPECT_EQ(b.Next(rng), absl::Seconds(2));
  EXPECT_EQ(b.Next(rng), absl::Seconds(4));
  EXPECT_EQ(b.Next(rng), absl::Seconds(5));
  EXPECT_EQ(b.Next(rng), absl::Seconds(5));
  b.Reset();
  EXPECT_EQ(b.Next(rng), absl::Seconds(1));
}

TEST(ReconnectBackoffTest, JitterSpreadsEveryWaitBothWays) {
  ReconnectPolicy p;  // 1 s, x1.6, +-20 %, cap 120 s
  std::mt19937_64 rng(7);
  absl::Duration lowest = absl::InfiniteDuration(), highest;
  for (int i = 0; i < 2000; ++i) {
    ReconnectBackoff b(&p);
    const absl::Duration first = b.Next(rng);
    lowest = std::min(lowest, first);
    highest = std::max(highest, first);
    const absl::Duration second = b.Next(rng);
    EXPECT_GE(second, absl::Milliseconds(1600 * 0.8));
    EXPECT_LE(second, absl::Milliseconds(1600 * 1.2));
  }
  EXPECT_GE(lowest, absl::Milliseconds(800));
  EXPECT_LT(lowest, absl::Milliseconds(820));  // both ends of the spread are used
  EXPECT_LE(highest, absl::Milliseconds(1200));
  EXPECT_GT(highest, absl::Milliseconds(1180));
}

TEST(ReconnectPolicyTest, OutOfRangeFieldsAreRefused) {
  EXPECT_TRUE(ReconnectPolicy().Validate().ok());
  for (ReconnectPolicy bad : {
           ReconnectPolicy{.initial = absl::ZeroDuration()},
           ReconnectPolicy{.initial = absl::Seconds(10), .cap = absl::Seconds(5)},
           ReconnectPolicy{.multiplier = 0.5},
           ReconnectPolicy{.jitter = -0.1},
           ReconnectPolicy{.jitter = 1.5},
       }) {
    EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace updraft::device
