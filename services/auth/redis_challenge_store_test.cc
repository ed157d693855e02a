#include "services/auth/redis_challenge_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class RedisChallengeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto redis = RedisClient::Create(env_->redis_options());
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    store_ = std::make_unique<RedisChallengeStore>(
        RedisChallengeStore::Options{redis_.get(), env_->redis_prefix()});
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisChallengeStore> store_;
};

TEST_F(RedisChallengeStoreTest, PutThenTakeOnce) {
  std::string nonce("\x00\xff nonce", 8);
  ASSERT_TRUE(store_->Put(nonce, "dev-1", absl::Seconds(60)).ok());
  auto first = store_->Take("dev-1", nonce);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, TakenChallenge::kChallenge);
  auto second = store_->Take("dev-1", nonce);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, TakenChallenge::kNone);
}

TEST_F(RedisChallengeStoreTest, KeyIsPrefixedAndExpires) {
  ASSERT_TRUE(store_->Put("abc", "dev-1", absl::Seconds(60)).ok());
  std::string key = store_->KeyFor("abc");
  EXPECT_EQ(key, env_->redis_prefix() + "auth:challenge:616263");
  auto ttl = redis_->Command({"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 50000);
  EXPECT_LE(ttl->integer, 60000);
}

TEST_F(RedisChallengeStoreTest, DuplicateNonceIsAlreadyExists) {
  ASSERT_TRUE(store_->Put("n", "dev-1", absl::Seconds(60)).ok());
  EXPECT_EQ(store_->Put("n", "dev-2", absl::Seconds(60)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Take("dev-2", "n"), TakenChallenge::kNone);
  EXPECT_EQ(*store_->Take("dev-1", "n"), TakenChallenge::kNone);  // consumed by dev-2's attempt
}

TEST_F(RedisChallengeStoreTest, BadTtlIsInvalidArgument) {
  EXPECT_EQ(store_->Put("n", "dev-1", absl::ZeroDuration()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutNext("dev-1", "n", absl::ZeroDuration()).code(),
            absl::StatusCode::kInvalidArgument);
}

// A device's next challenge: one key per device holding the raw nonce, a
// newer one replaces it, usable once and only by that device.
TEST_F(RedisChallengeStoreTest, NextChallengeIsOneKeyPerDeviceAndSingleUse) {
  std::string a("\x00a\xff", 3), b("\x00b\xff", 3);
  ASSERT_TRUE(store_->PutNext("dev-1", a, absl::Seconds(60)).ok());
  ASSERT_TRUE(store_->PutNext("dev-1", b, absl::Seconds(60)).ok());
  std::string key = store_->NextKeyFor("dev-1");
  EXPECT_EQ(key, env_->redis_prefix() + "auth:next:dev-1");
  auto value = redis_->Command({"GET", key});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->str, b);
  auto ttl = redis_->Command({"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 50000);
  EXPECT_LE(ttl->integer, 60000);

  EXPECT_EQ(*store_->Take("dev-1", a), TakenChallenge::kNone);  // replaced
  EXPECT_EQ(*store_->Take("dev-2", b), TakenChallenge::kNone);  // another device
  EXPECT_EQ(*store_->Take("dev-1", b), TakenChallenge::kNextChallenge);
  EXPECT_EQ(*store_->Take("dev-1", b), TakenChallenge::kNone);  // replay
  auto gone = redis_->Command({"EXISTS", key});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->integer, 0);
}

TEST_F(RedisChallengeStoreTest, ConcurrentTakesOfANextChallengeHaveOneWinner) {
  ASSERT_TRUE(store_->PutNext("dev-1", "race", absl::Seconds(60)).ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto got = store_->Take("dev-1", "race");
      if (got.ok() && *got == TakenChallenge::kNextChallenge) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_F(RedisChallengeStoreTest, ConcurrentTakesHaveOneWinner) {
  ASSERT_TRUE(store_->Put("race", "dev-1", absl::Seconds(60)).ok());
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto got = store_->Take("dev-1", "race");
      if (got.ok() && *got == TakenChallenge::kChallenge) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

}  // namespace
}  // namespace updraft
