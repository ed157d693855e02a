#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/redis_client.h"
#include "common/redis_subscriber.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto client = RedisClient::Create(env_->redis_options());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  std::string Key(const std::string& k) { return env_->redis_prefix() + k; }
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(RedisTest, SetIfAbsentThenGetAndDeleteIsSingleUse) {
  EXPECT_TRUE(*client_->SetIfAbsent(Key("c"), std::string("v\0x", 3), absl::Seconds(30)));
  EXPECT_FALSE(*client_->SetIfAbsent(Key("c"), "other", absl::Seconds(30)));
  auto first = client_->GetAndDelete(Key("c"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(**first, std::string("v\0x", 3));
  EXPECT_FALSE(client_->GetAndDelete(Key("c"))->has_value());
}

TEST_F(RedisTest, SetWithTtlReplacesAndExpires) {
  ASSERT_TRUE(client_->SetWithTtl(Key("s"), "one", absl::Seconds(30)).ok());
  ASSERT_TRUE(client_->SetWithTtl(Key("s"), "two", absl::Milliseconds(1500)).ok());
  EXPECT_EQ(client_->Command({"GET", Key("s")})->str, "two");
  auto ttl = client_->Command({"PTTL", Key("s")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 1500);
  // A TTL Redis refuses (zero) is an error, and nothing is written.
  EXPECT_FALSE(client_->SetWithTtl(Key("z"), "v", absl::ZeroDuration()).ok());
  EXPECT_EQ(client_->Command({"EXISTS", Key("z")})->integer, 0);
}

TEST_F(RedisTest, IncrementWindowCountsAndExpires) {
  EXPECT_EQ(*client_->IncrementWindow(Key("n"), absl::Seconds(30)), 1);
  EXPECT_EQ(*client_->IncrementWindow(Key("n"), absl::Seconds(30)), 2);
  auto ttl = client_->Command({"PTTL", Key("n")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
}

TEST_F(RedisTest, ErrorReplyIsInternal) {
  auto r = client_->Command({"NOSUCHCOMMAND"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
}

TEST_F(RedisTest, UnreachableServerIsUnavailable) {
  RedisClient::Options o;
  o.port = 1;
  EXPECT_EQ(RedisClient::Create(o).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisTest, SubscriberReceivesPublishedMessages) {
  absl::Mutex mu;
  std::vector<std::string> got;
  absl::Notification two;
  RedisSubscriber sub(env_->redis_options(), Key("chan"), [&](const std::string& m) {
    absl::MutexLock lock(&mu);
    got.push_back(m);
    if (got.size() == 2) two.Notify();
  });
  ASSERT_TRUE(sub.WaitUntilSubscribed(absl::Seconds(10)));
  EXPECT_EQ(*client_->Publish(Key("chan"), "one"), 1);
  EXPECT_EQ(*client_->Publish(Key("chan"), std::string("t\0o", 3)), 1);
  ASSERT_TRUE(two.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(got, (std::vector<std::string>{"one", std::string("t\0o", 3)}));
}

}  // namespace
}  // namespace updraft
