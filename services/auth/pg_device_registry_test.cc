#include "services/auth/pg_device_registry.h"

#include "common/crypto.h"
#include "common/migrations.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/auth/auth_migrations.h"

namespace updraft {
namespace {

class PgDeviceRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(ApplyMigrations(*pool_, "auth", AuthMigrations()).ok());
    registry_ = std::make_unique<PgDeviceRegistry>(pool_.get());
  }

  DeviceRecord Device(const std::string& id) {
    DeviceRecord d;
    d.device_id = id;
    d.public_key = Ed25519KeyPair::Generate()->public_key();
    d.status = DeviceStatus::kAccepted;
    return d;
  }

  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(pool_
                    ->Transact([&](pqxx::work& txn) {
                      n = txn.exec(sql)[0][0].as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgDeviceRegistry> registry_;
};

TEST_F(PgDeviceRegistryTest, RegisterThenGetRoundTripsEveryField) {
  DeviceRecord d = Device("dev-1");
  d.public_key[0] = '\0';  // bytea must keep NUL bytes
  d.status = DeviceStatus::kPending;
  d.attributes = {{"model", "X1"},
                  {"quote", "a \"b\" \\c"},
                  {"unicode", "Ünïcødé ✓"},
                  {"ctl", "tab\there\nnewline"},
                  {"empty", ""}};
  auto stored = registry_->Register(d);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->created_at, absl::Now() - absl::Minutes(5));

  auto got = registry_->Get("dev-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->device_id, "dev-1");
  EXPECT_EQ(got->public_key, d.public_key);
  EXPECT_EQ(got->status, DeviceStatus::kPending);
  EXPECT_EQ(got->attributes, d.attributes);
  EXPECT_EQ(got->created_at, stored->created_at);
}

TEST_F(PgDeviceRegistryTest, RegisterWritesAuditRow) {
  ASSERT_TRUE(registry_->Register(Device("dev-1")).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit WHERE device_id = 'dev-1' AND "
                  "action = 'register_device' AND actor = 'auth-admin-api'"),
            1);
}

TEST_F(PgDeviceRegistryTest, DuplicateIsAlreadyExistsAndChangesNothing) {
  DeviceRecord first = Device("dev-1");
  ASSERT_TRUE(registry_->Register(first).ok());
  auto again = registry_->Register(Device("dev-1"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "device dev-1 is already registered");
  EXPECT_EQ(registry_->Get("dev-1")->public_key, first.public_key);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit"), 1);
}

TEST_F(PgDeviceRegistryTest, BadKeyLengthIsRejectedByTheSchemaWithoutAudit) {
  DeviceRecord d = Device("dev-1");
  d.public_key = "short";
  EXPECT_EQ(registry_->Register(d).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Get("dev-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit"), 0);
}

TEST_F(PgDeviceRegistryTest, UnknownDeviceIsNotFound) {
  auto got = registry_->Get("ghost");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "device ghost is not registered");
}

TEST(AttributesToJsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(AttributesToJson({}), "{}");
  EXPECT_EQ(AttributesToJson({{"a", "x\"y\\z\n"}, {"b", "é"}}),
            "{\"a\":\"x\\\"y\\\\z\\n\",\"b\":\"é\"}");
}

}  // namespace
}  // namespace updraft
