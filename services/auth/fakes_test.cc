#include "services/auth/fakes.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(FakeChallengeStoreTest, SingleUseAndExpiresWithClock) {
  FakeClock clock;
  FakeChallengeStore store(&clock);
  ASSERT_TRUE(store.Put("n1", "dev-1", absl::Seconds(10)).ok());
  ASSERT_TRUE(store.Put("n2", "dev-2", absl::Seconds(10)).ok());
  ASSERT_TRUE(store.Put("n3", "dev-3", absl::Seconds(10)).ok());
  EXPECT_EQ(store.Put("n1", "dev-3", absl::Seconds(10)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store.Take("dev-1", "n1"), TakenChallenge::kChallenge);
  EXPECT_EQ(*store.Take("dev-1", "n1"), TakenChallenge::kNone);
  // Presented by another device: refused, and consumed all the same.
  EXPECT_EQ(*store.Take("dev-1", "n3"), TakenChallenge::kNone);
  EXPECT_EQ(*store.Take("dev-3", "n3"), TakenChallenge::kNone);
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(*store.Take("dev-2", "n2"), TakenChallenge::kNone);
  EXPECT_EQ(*store.Take("dev-2", "unknown"), TakenChallenge::kNone);
  EXPECT_EQ(store.size(), 0u);
}

TEST(FakeChallengeStoreTest, NextChallengeIsPerDeviceSingleUseAndExpires) {
  FakeClock clock;
  FakeChallengeStore store(&clock);
  ASSERT_TRUE(store.PutNext("dev-1", "a", absl::Seconds(10)).ok());
  ASSERT_TRUE(store.PutNext("dev-1", "b", absl::Seconds(10)).ok());  // replaces "a"
  EXPECT_EQ(store.next_size(), 1u);
  EXPECT_EQ(*store.Take("dev-1", "a"), TakenChallenge::kNone);
  EXPECT_EQ(*store.Take("dev-2", "b"), TakenChallenge::kNone);
  EXPECT_EQ(*store.Take("dev-1", "b"), TakenChallenge::kNextChallenge);
  EXPECT_EQ(*store.Take("dev-1", "b"), TakenChallenge::kNone);
  ASSERT_TRUE(store.PutNext("dev-1", "c", absl::Seconds(10)).ok());
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(*store.Take("dev-1", "c"), TakenChallenge::kNone);
  EXPECT_EQ(store.next_size(), 0u);
}

TEST(FakeDeviceRegistryTest, RegisterGetTransitionAndAudit) {
  FakeAuditLog audit;
  FakeDeviceRegistry registry(&audit);
  DeviceRecord d;
  d.device_id = "dev-1";
  AuditEntry e;
  e.action = "register_device";
  ASSERT_TRUE(registry.Register(d, e).ok());
  EXPECT_EQ(registry.Register(d, e).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(registry.Get("dev-1").ok());
  EXPECT_EQ(registry.Get("dev-2").status().code(), absl::StatusCode::kNotFound);
  auto moved = registry.Transition("dev-1", {DeviceStatus::kPending}, DeviceStatus::kAccepted, e);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->status, DeviceStatus::kAccepted);
  EXPECT_EQ(registry.Transition("dev-1", {DeviceStatus::kPending}, DeviceStatus::kRejected, e)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(audit.entries().size(), 2u);
}

TEST(FakeRateLimiterTest, FixedWindowsOnTheClock) {
  FakeClock clock(absl::FromUnixSeconds(6000));  // a window boundary
  FakeRateLimiter limiter(&clock);
  RateLimit limit{2, absl::Minutes(1)};
  EXPECT_EQ(*limiter.Hit("k", limit), absl::ZeroDuration());
  EXPECT_EQ(*limiter.Hit("k", limit), absl::ZeroDuration());
  clock.Advance(absl::Seconds(15));
  EXPECT_EQ(*limiter.Hit("k", limit), absl::Seconds(45));
  EXPECT_EQ(*limiter.Hit("other", limit), absl::ZeroDuration());
  clock.Advance(absl::Seconds(45));
  EXPECT_EQ(*limiter.Hit("k", limit), absl::ZeroDuration());
  EXPECT_EQ(*limiter.Hit("k", RateLimit{0, absl::Minutes(1)}), absl::ZeroDuration());
}

}  // namespace
}  // namespace updraft
