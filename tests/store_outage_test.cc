// What the platform does when its stores lose state or connections under it
// (issue 10): every PostgreSQL connection of the platform's database is
// terminated (what a PostgreSQL restart or failover does to clients), and
// every Redis key of the platform is deleted (a flush, or a failover to an
// empty replica). Operators and devices must not see an error afterwards,
// and nothing may be lost or recorded twice.
#include <string>

#include "common/pg_pool.h"
#include "common/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e_fixture.h"

namespace updraft::e2e {
namespace {

class StoreOutageTest : public PlatformTest {
 protected:
  // Terminates every other backend connected to the platform's database;
  // returns how many.
  int TerminatePostgresConnections() {
    auto pool = PgPool::Create({.uri = platform_->env().pg_uri(), .size = 1});
    EXPECT_TRUE(pool.ok()) << pool.status();
    int killed = 0;
    absl::Status s = (*pool)->Read([&](pqxx::nontransaction& txn) {
      killed =
          txn.exec(
                 "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                 " WHERE datname = current_database() AND pid <> pg_backend_pid()")[0][0]
              .as<int>();
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return killed;
  }

  // Deletes every Redis key under the platform's prefix; returns how many.
  int FlushRedis() {
    auto redis = RedisClient::Create(platform_->env().redis_options());
    EXPECT_TRUE(redis.ok()) << redis.status();
    auto keys = (*redis)->Command({"KEYS", platform_->env().redis_prefix() + "*"});
    EXPECT_TRUE(keys.ok()) << keys.status();
    if (!keys.ok() || keys->elements.empty()) return 0;
    std::vector<std::string> del = {"DEL"};
    for (const RedisReply& k : keys->elements) del.push_back(k.str);
    auto deleted = (*redis)->Command(del);
    EXPECT_TRUE(deleted.ok()) << deleted.status();
    return deleted.ok() ? static_cast<int>(deleted->integer) : 0;
  }
};

TEST_F(StoreOutageTest, EveryPostgresConnectionDroppedNobodyNotices) {
  DemoArtifact a1, a2;
  v1::Release r1, r2;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &a1, &r1));
  auto device = NewDevice("pg-outage-1");
  ASSERT_NE(device, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*device, "1.0.0"));

  // Every service holds pooled connections (and the catalog its LISTEN one).
  EXPECT_GE(TerminatePostgresConnections(), 3);
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.1.0", &a2, &r2));    // catalog and download write
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*device, "1.1.0"));  // login, check, report

  EXPECT_GE(TerminatePostgresConnections(), 1);
  auto second = NewDevice("pg-outage-2");  // auth writes the registration
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*second, "1.1.0"));

  ExpectOneSuccess("pg-outage-1", r1);
  ExpectOneSuccess("pg-outage-1", r2);
  ExpectOneSuccess("pg-outage-2", r2);
}

TEST_F(StoreOutageTest, RedisFlushedMidFlowTheDeviceStillCompletes) {
  DemoArtifact a1;
  v1::Release r1;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &a1, &r1));
  auto device = NewDevice("redis-flush-1");
  ASSERT_NE(device, nullptr);
  // The check writes the device's download grant to Redis; the flush loses
  // it (and challenges, rate-limit windows, presence).
  auto offers = device->client().CheckForUpdates();
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_GE(FlushRedis(), 1);
  // The flow checks again, which grants again; the download proceeds.
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*device, "1.0.0"));
  ExpectOneSuccess("redis-flush-1", r1);

  // A new device logs in (fresh challenge) after another flush.
  FlushRedis();
  auto second = NewDevice("redis-flush-2");
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*second, "1.0.0"));
}

}  // namespace
}  // namespace updraft::e2e
