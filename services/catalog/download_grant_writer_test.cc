#include "services/catalog/download_grant_writer.h"

#include "common/redis_client.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

TEST(RedisDownloadGrantWriterTest, WritesOneKeyPerArtifactWithTheTtl) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  auto redis = RedisClient::Create((*env)->redis_options());
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto writer = RedisDownloadGrantWriter::Create(
      {.redis = redis->get(), .key_prefix = (*env)->redis_prefix(), .ttl = absl::Minutes(10)});
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string a(64, 'a'), b(64, 'b');
  ASSERT_TRUE((*writer)->Grant("dev-1", {a, b}).ok());
  for (const std::string& sha : {a, b}) {
    auto ttl = (*redis)->Command({"PTTL", (*env)->redis_prefix() + "download-grant:dev-1:" + sha});
    ASSERT_TRUE(ttl.ok()) << ttl.status();
    EXPECT_GT(ttl->integer, 9 * 60 * 1000);
    EXPECT_LE(ttl->integer, 10 * 60 * 1000);
  }
  auto other = (*redis)->Command({"EXISTS", (*env)->redis_prefix() + "download-grant:dev-2:" + a});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->integer, 0);
}

TEST(RedisDownloadGrantWriterTest, CreateValidatesOptions) {
  EXPECT_EQ(RedisDownloadGrantWriter::Create({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::catalog
