// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/auth/durable_revocation_publisher.h"

#include "common/clock.h"
#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/auth_migrations.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

class DurableRevocationPublisherTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ApplyMigrations(*pool_, "auth", AuthMigrations()).ok());
    auto p = DurableRevocationPublisher::Create(
        {.pool = pool_.get(), .next = &redis_, .clock = &clock_, .interval = absl::ZeroDuration()});
    ASSERT_TRUE(p.ok()) << p.status();
    publisher_ = *std::move(p);
  }

  Revocation Token(const std::string& id, absl::Duration ttl) {
    Revocation r;
    r.kind = Revocation::Kind::kToken;
    r.id = id;
    r.revoked_at = clock_.Now();
    r.expires_at = clock_.Now() + ttl;
    return r;
  }

  std::vector<std::string> PublishedIds() {
    std::vector<std::string> ids;
    for (const Revocation& r : redis_.published()) ids.push_back(r.id);
    return ids;
  }

  FakeClock clock_;
  FakeRevocationPublisher redis_;  // stands for the Redis snapshot and channel
  std::unique_ptr<DurableRevocationPublisher> publisher_;
};

TEST_F(DurableRevocationPublisherTest, RevocationsComeBackAfterRedisLostThemUntilTheyExpire) {
  ASSERT_TRUE(publisher_->Publish(Token("t-short", absl::Minutes(1))).ok());
  ASSERT_TRUE(publisher_->Publish(Token("t-long", absl::Minutes(15))).ok());
  EXPECT_THAT(PublishedIds(), ::testing::ElementsAre("t-short", "t-long"));
  // Whatever Redis lost, both are published again.
  auto n = publisher_->Republish();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  EXPECT_THAT(PublishedIds(), ::testing::ElementsAre("t-short", "t-long", "t-short", "t-long"));
  // An expired one is forgotten, the other still republished.
  clock_.Advance(absl::Minutes(2));
  n = publisher_->Republish();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(PublishedIds().back(), "t-long");
}

TEST_F(DurableRevocationPublisherTest, PublishingTheSameRevocationTwiceStoresItOnce) {
  Revocation r = Token("t-1", absl::Minutes(5));
  ASSERT_TRUE(publisher_->Publish(r).ok());
  ASSERT_TRUE(publisher_->Publish(r).ok());
  auto n = publisher_->Republish();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
}

TEST_F(DurableRevocationPublisherTest, CreateNeedsItsParts) {
  EXPECT_EQ(DurableRevocationPublisher::Create({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft
