// Integration test over the real Redis of ./dev.sh test.
#include "services/auth/redis_rate_limiter.h"

#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(RedisRateLimiterTest, FixedWindowsSharedByReplicas) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  auto redis = RedisClient::Create((*env)->redis_options());
  ASSERT_TRUE(redis.ok()) << redis.status();
  FakeClock clock(absl::FromUnixSeconds(1800000000) + absl::Seconds(15));
  RedisRateLimiter a(redis->get(), (*env)->redis_prefix(), &clock);
  RedisRateLimiter b(redis->get(), (*env)->redis_prefix(), &clock);
  RateLimit limit{3, absl::Minutes(1)};
  EXPECT_EQ(*a.Hit("device:d1", limit), absl::ZeroDuration());
  EXPECT_EQ(*b.Hit("device:d1", limit), absl::ZeroDuration());
  EXPECT_EQ(*a.Hit("device:d1", limit), absl::ZeroDuration());
  // The fourth attempt, on either replica, is refused until the window ends.
  EXPECT_EQ(*b.Hit("device:d1", limit), absl::Seconds(45));
  EXPECT_EQ(*a.Hit("device:d2", limit), absl::ZeroDuration());
  clock.Advance(absl::Seconds(45));
  EXPECT_EQ(*a.Hit("device:d1", limit), absl::ZeroDuration());
  EXPECT_EQ(*a.Hit("device:d1", RateLimit{0, absl::Minutes(1)}), absl::ZeroDuration());
}

TEST(RedisRateLimiterTest, RedisDownIsUnavailable) {
  RedisClient::Options o;
  o.port = 1;
  auto redis = RedisClient::Create(o);
  EXPECT_EQ(redis.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft
