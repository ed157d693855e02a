#include "services/download/redis_download_grants.h"

#include <string>

#include "common/clock.h"
#include "common/download_grant_key.h"
#include "common/redis_client.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft::download {
namespace {

const std::string kSha(64, 'a');

TEST(DownloadGrantKeyTest, Format) {
  EXPECT_EQ(DownloadGrantKey("updraft:", "dev-1", kSha), "updraft:download-grant:dev-1:" + kSha);
}

TEST(RedisDownloadGrantsTest, ReadsGrantsAndCachesOnlyPositives) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  auto redis = RedisClient::Create((*env)->redis_options());
  ASSERT_TRUE(redis.ok()) << redis.status();
  FakeClock clock;
  auto grants = RedisDownloadGrants::Create({.redis = redis->get(),
                                             .key_prefix = (*env)->redis_prefix(),
                                             .clock = &clock,
                                             .cache_ttl = absl::Seconds(60)});
  ASSERT_TRUE(grants.ok()) << grants.status();
  const std::string key = DownloadGrantKey((*env)->redis_prefix(), "dev-1", kSha);

  auto before = (*grants)->IsGranted("dev-1", kSha);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_FALSE(*before);
  // The catalog writes the grant: seen at once (a miss is not cached).
  ASSERT_TRUE((*redis)->Command({"SET", key, "1", "PX", "600000"}).ok());
  EXPECT_TRUE(*(*grants)->IsGranted("dev-1", kSha));
  EXPECT_FALSE(*(*grants)->IsGranted("dev-2", kSha));
  EXPECT_FALSE(*(*grants)->IsGranted("dev-1", std::string(64, 'b')));

  // Expired in Redis: still trusted from the cache for cache_ttl, then not.
  ASSERT_TRUE((*redis)->Command({"DEL", key}).ok());
  EXPECT_TRUE(*(*grants)->IsGranted("dev-1", kSha));
  clock.Advance(absl::Seconds(61));
  EXPECT_FALSE(*(*grants)->IsGranted("dev-1", kSha));
}

TEST(RedisDownloadGrantsTest, CreateValidatesOptions) {
  FakeClock clock;
  EXPECT_EQ(RedisDownloadGrants::Create({.clock = &clock}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::download
