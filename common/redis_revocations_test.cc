// Integration test over the real Redis of ./dev.sh test: revocations reach
// every subscribed list (two "replicas"), and a list started later learns
// them from the snapshot.
#include "common/redis_revocations.h"

#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class RedisRevocationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto redis = RedisClient::Create(env_->redis_options());
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
  }

  std::unique_ptr<RedisRevocationFeed> Feed(RevocationList* list) {
    auto feed = RedisRevocationFeed::Start({.redis = env_->redis_options(),
                                            .key_prefix = env_->redis_prefix(),
                                            .list = list,
                                            .clock = &clock_});
    EXPECT_TRUE(feed.ok()) << feed.status();
    return feed.ok() ? *std::move(feed) : nullptr;
  }

  AccessClaims Claims(const std::string& device) {
    AccessClaims c;
    c.subject = device;
    c.audience = std::string(kDeviceAudience);
    c.token_id = "tok";
    c.issued_at = clock_.Now() - absl::Seconds(10);
    c.expires_at = clock_.Now() + absl::Minutes(10);
    return c;
  }

  Revocation Revoke(const std::string& device) {
    return {Revocation::Kind::kSubject, std::string(kDeviceAudience), device, clock_.Now(),
            clock_.Now() + absl::Minutes(15)};
  }

  FakeClock clock_;
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<RedisClient> redis_;
};

TEST_F(RedisRevocationsTest, PublishedRevocationReachesEveryReplica) {
  RevocationList a(&clock_), b(&clock_);
  auto feed_a = Feed(&a);
  auto feed_b = Feed(&b);
  ASSERT_TRUE(feed_a && feed_b);
  EXPECT_TRUE(a.Check(Claims("phone-1")).ok());
  RedisRevocationPublisher publisher(redis_.get(), env_->redis_prefix(), &clock_);
  ASSERT_TRUE(publisher.Publish(Revoke("phone-1")).ok());
  ASSERT_TRUE(a.AwaitRevision(1, absl::Seconds(5)));
  ASSERT_TRUE(b.AwaitRevision(1, absl::Seconds(5)));
  EXPECT_EQ(a.Check(Claims("phone-1")).message(), "device phone-1 is revoked");
  EXPECT_EQ(b.Check(Claims("phone-1")).message(), "device phone-1 is revoked");
  EXPECT_TRUE(b.Check(Claims("phone-2")).ok());
}

TEST_F(RedisRevocationsTest, LateStarterLoadsSnapshotWithoutExpiredEntries) {
  RedisRevocationPublisher publisher(redis_.get(), env_->redis_prefix(), &clock_);
  Revocation old = Revoke("phone-old");
  old.expires_at = clock_.Now() - absl::Seconds(1);
  ASSERT_TRUE(publisher.Publish(old).ok());
  ASSERT_TRUE(publisher.Publish(Revoke("phone-1")).ok());
  RevocationList late(&clock_);
  auto feed = Feed(&late);
  ASSERT_TRUE(feed);
  EXPECT_EQ(late.Check(Claims("phone-1")).message(), "device phone-1 is revoked");
  EXPECT_EQ(late.size(), 1u);
  auto members = redis_->Command({"ZCARD", RevocationSnapshotKey(env_->redis_prefix())});
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(members->integer, 1);  // the expired one was dropped from Redis too
}

TEST_F(RedisRevocationsTest, MalformedMessagesAreIgnored) {
  RevocationList list(&clock_);
  auto feed = Feed(&list);
  ASSERT_TRUE(feed);
  ASSERT_TRUE(redis_->Publish(RevocationChannel(env_->redis_prefix()), "garbage").ok());
  RedisRevocationPublisher publisher(redis_.get(), env_->redis_prefix(), &clock_);
  ASSERT_TRUE(publisher.Publish(Revoke("phone-1")).ok());
  ASSERT_TRUE(list.AwaitRevision(1, absl::Seconds(5)));
  EXPECT_EQ(list.size(), 1u);
}

TEST_F(RedisRevocationsTest, UnreachableRedisFailsStart) {
  RevocationList list(&clock_);
  RedisClient::Options bad;
  bad.port = 1;
  auto feed = RedisRevocationFeed::Start({.redis = bad,
                                          .list = &list,
                                          .clock = &clock_,
                                          .subscribe_timeout = absl::Milliseconds(200)});
  EXPECT_EQ(feed.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft
