#include "services/auth/pg_device_registry.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/auth/auth_migrations.h"

namespace updraft {
namespace {

class PgDeviceRegistryTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ApplyMigrations(*pool_, "auth", AuthMigrations()).ok());
    registry_ = std::make_unique<PgDeviceRegistry>(pool_.get());
  }

  DeviceRecord Device(const std::string& id) {
    DeviceRecord d;
    d.device_id = id;
    d.public_key = Ed25519KeyPair::Generate()->public_key();
    d.status = DeviceStatus::kAccepted;
    d.created_at = d.updated_at = absl::FromUnixMicros(1800000000123456);
    return d;
  }

  AuditEntry Audit(const std::string& action, const std::string& device_id = "") {
    AuditEntry e;
    e.at = absl::FromUnixMicros(1800000000123456);
    e.actor = "ops (ak_1)";
    e.action = action;
    e.device_id = device_id;
    return e;
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
  ASSERT_TRUE(registry_->Register(d, Audit("register_device", "dev-1")).ok());
  auto got = registry_->Get("dev-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->device_id, "dev-1");
  EXPECT_EQ(got->key_type, KeyType::kEd25519);
  EXPECT_EQ(got->public_key, d.public_key);
  EXPECT_EQ(got->status, DeviceStatus::kPending);
  EXPECT_EQ(got->attributes, d.attributes);
  EXPECT_EQ(got->created_at, d.created_at);
  EXPECT_EQ(got->updated_at, d.updated_at);
}

TEST_F(PgDeviceRegistryTest, P256KeysAreStored) {
  DeviceRecord d = Device("dev-p");
  d.key_type = KeyType::kEcdsaP256;
  d.public_key = EcdsaP256KeyPair::Generate()->public_key();
  ASSERT_TRUE(registry_->Register(d, Audit("register_device", "dev-p")).ok());
  auto got = registry_->Get("dev-p");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key_type, KeyType::kEcdsaP256);
  EXPECT_EQ(got->public_key, d.public_key);
  // The schema checks length by type.
  DeviceRecord bad = Device("dev-q");
  bad.key_type = KeyType::kEcdsaP256;
  EXPECT_EQ(registry_->Register(bad, Audit("register_device")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PgDeviceRegistryTest, RegisterWritesAuditRow) {
  ASSERT_TRUE(registry_->Register(Device("dev-1"), Audit("register_device", "dev-1")).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit WHERE device_id = 'dev-1' AND "
                  "action = 'register_device' AND actor = 'ops (ak_1)'"),
            1);
}

TEST_F(PgDeviceRegistryTest, DuplicateIsAlreadyExistsAndChangesNothing) {
  DeviceRecord first = Device("dev-1");
  ASSERT_TRUE(registry_->Register(first, Audit("register_device", "dev-1")).ok());
  auto again = registry_->Register(Device("dev-1"), Audit("register_device", "dev-1"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "device dev-1 is already registered");
  EXPECT_EQ(registry_->Get("dev-1")->public_key, first.public_key);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit"), 1);
}

TEST_F(PgDeviceRegistryTest, BadKeyLengthIsRejectedByTheSchemaWithoutAudit) {
  DeviceRecord d = Device("dev-1");
  d.public_key = "short";
  EXPECT_EQ(registry_->Register(d, Audit("register_device")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Get("dev-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit"), 0);
}

TEST_F(PgDeviceRegistryTest, UnknownDeviceIsNotFound) {
  auto got = registry_->Get("ghost");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "device ghost is not registered");
}

TEST_F(PgDeviceRegistryTest, TransitionChecksTheCurrentStatusAndAudits) {
  DeviceRecord d = Device("dev-1");
  d.status = DeviceStatus::kPending;
  ASSERT_TRUE(registry_->Register(d, Audit("self_register_device", "dev-1")).ok());
  AuditEntry accept = Audit("accept_device", "dev-1");
  accept.at = absl::FromUnixMicros(1800000100000000);
  auto moved =
      registry_->Transition("dev-1", {DeviceStatus::kPending}, DeviceStatus::kAccepted, accept);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->status, DeviceStatus::kAccepted);
  EXPECT_EQ(moved->updated_at, accept.at);
  EXPECT_EQ(moved->created_at, d.created_at);
  auto refused =
      registry_->Transition("dev-1", {DeviceStatus::kPending}, DeviceStatus::kRejected, accept);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      registry_->Transition("ghost", {DeviceStatus::kPending}, DeviceStatus::kAccepted, accept)
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit WHERE action = 'accept_device'"), 1);
}

TEST_F(PgDeviceRegistryTest, ListFiltersByStatusInIdOrderWithPaging) {
  for (int i = 0; i < 5; ++i) {
    DeviceRecord d = Device(absl::StrCat("dev-", i));
    d.status = i % 2 == 0 ? DeviceStatus::kPending : DeviceStatus::kAccepted;
    d.attributes = {{"n", absl::StrCat(i)}};
    ASSERT_TRUE(registry_->Register(d, Audit("register_device", d.device_id)).ok());
  }
  DeviceQuery q;
  q.status = DeviceStatus::kPending;
  auto pending = registry_->List(q);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].device_id, "dev-0");
  EXPECT_EQ((*pending)[2].device_id, "dev-4");
  EXPECT_EQ((*pending)[2].attributes.at("n"), "4");
  DeviceQuery page;
  page.limit = 2;
  page.after_device_id = "dev-1";
  auto next = registry_->List(page);
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].device_id, "dev-2");
  EXPECT_EQ((*next)[1].device_id, "dev-3");
}

TEST_F(PgDeviceRegistryTest, ImportIsAllOrNothingAndFast) {
  std::vector<DeviceRecord> devices;
  for (int i = 0; i < 5000; ++i) {
    DeviceRecord d = Device(absl::StrCat("imei-", i));
    d.attributes = {{"model", "Pixel \"9\""}};
    devices.push_back(d);
  }
  absl::Time start = absl::Now();
  ASSERT_TRUE(registry_->Import(devices, Audit("import_device"), nullptr).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(Count("SELECT count(*) FROM devices"), 5000);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_audit WHERE action = 'import_device' AND "
                  "actor = 'ops (ak_1)' AND device_id IS NOT NULL"),
            5000);
  EXPECT_EQ(registry_->Get("imei-4999")->attributes.at("model"), "Pixel \"9\"");

  std::vector<DeviceRecord> again = {Device("new-1"), Device("imei-7"), Device("new-2")};
  size_t conflict = 99;
  absl::Status s = registry_->Import(again, Audit("import_device"), &conflict);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conflict, 1u);
  EXPECT_EQ(registry_->Get("new-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM devices"), 5000);
}

TEST(AttributesToJsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(AttributesToJson({}), "{}");
  EXPECT_EQ(AttributesToJson({{"a", "x\"y\\z\n"}, {"b", "é"}}),
            "{\"a\":\"x\\\"y\\\\z\\n\",\"b\":\"é\"}");
}

}  // namespace
}  // namespace updraft
