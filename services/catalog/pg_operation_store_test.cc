// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
// PgOperationStore, and PgCatalogStore::RecordReport completing operations.
#include "services/catalog/pg_operation_store.h"

#include <atomic>
#include <thread>

#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_migrations.h"
#include "services/catalog/pg_catalog_store.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;
using Op = v1::ComponentOperation;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class PgOperationStoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations()).ok());
    catalog_ = std::make_unique<PgCatalogStore>(pool_.get());
    ops_ = std::make_unique<PgOperationStore>(pool_.get());
    v1::Package p;
    p.set_package_id("pkg_1");
    p.set_name("suite");
    p.set_author("Acme");
    ASSERT_TRUE(catalog_->CreatePackage(p, kNow).ok());
    v1::Release r;
    r.set_release_id("rel_1");
    r.set_package_id("pkg_1");
    r.set_version("1.0.0");
    r.mutable_artifact()->set_sha256(std::string(64, 'a'));
    v1::GroupSettings* g = r.add_group_settings();
    g->set_group("beta");
    (*g->mutable_settings())["volume"] = "9";
    ASSERT_TRUE(catalog_->CreateRelease(r, kNow).ok());
  }

  Op Make(const std::string& id, const std::string& device, Op::Kind kind, const std::string& dc) {
    Op op;
    op.set_operation_id(id);
    op.set_device_id(device);
    op.set_kind(kind);
    op.set_dc_id(dc);
    op.set_release_id("rel_1");
    op.set_group("beta");
    op.set_queued_at_unix(absl::ToUnixSeconds(kNow));
    return op;
  }

  v1::ResultRecord Report(const std::string& report_id, const std::string& op_id,
                          v1::ResultCode code) {
    v1::ResultRecord r;
    r.set_report_id(report_id);
    r.set_release_id("rel_1");
    r.set_operation_id(op_id);
    r.set_result(code);
    r.set_message("m");
    r.set_reported_at_unix(absl::ToUnixSeconds(kNow) + 60);
    return r;
  }

  std::unique_ptr<PgCatalogStore> catalog_;
  std::unique_ptr<PgOperationStore> ops_;
};

TEST_F(PgOperationStoreTest, GroupSettingsRoundTrip) {
  auto r = catalog_->GetRelease("rel_1");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->group_settings_size(), 1);
  EXPECT_EQ(r->group_settings(0).group(), "beta");
  EXPECT_EQ(r->group_settings(0).settings().at("volume"), "9");
}

TEST_F(PgOperationStoreTest, QueueIsAllOrNothing) {
  Op bad = Make("op_2", "dev-1", Op::REMOVE, "DC_1");
  bad.set_release_id("rel_missing");
  EXPECT_EQ(ops_->Queue({Make("op_1", "dev-1", Op::REMOVE, "DC_1"), bad}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ops_->List("dev-1", 10)->empty());
  ASSERT_TRUE(ops_->Queue({Make("op_1", "dev-1", Op::REMOVE, "DC_1")}).ok());
  EXPECT_EQ(ops_->Queue({Make("op_1", "dev-1", Op::REMOVE, "DC_1")}).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PgOperationStoreTest, PendingBecomeDeliveredAndReportsCompleteThem) {
  ASSERT_TRUE(ops_->Queue({Make("op_1", "dev-1", Op::UPDATE, "DC_1"),
                           Make("op_2", "dev-1", Op::DEACTIVATE, "DC_2"),
                           Make("op_3", "dev-2", Op::REMOVE, "DC_1")})
                  .ok());
  auto pending = ops_->TakePending("dev-1", kNow + absl::Seconds(5));
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].operation_id(), "op_1");
  EXPECT_EQ((*pending)[0].kind(), Op::UPDATE);
  EXPECT_EQ((*pending)[0].state(), Op::DELIVERED);
  EXPECT_EQ((*pending)[0].group(), "beta");
  EXPECT_EQ((*pending)[0].delivered_at_unix(), absl::ToUnixSeconds(kNow) + 5);
  EXPECT_EQ((*pending)[1].kind(), Op::DEACTIVATE);

  v1::InventoryComponent c;
  c.set_dc_id("DC_2");
  c.set_release_id("rel_1");
  c.set_name("DC_2");
  c.set_version("1.0.0");
  c.set_location(v1::DEPLOYED);
  c.set_state(v1::INACTIVE);
  v1::ResultRecord ok = Report("r1", "op_2", v1::SUCCESS);
  (*ok.mutable_applied_settings())["volume"] = "9";
  EXPECT_FALSE(catalog_->RecordReport("dev-1", ok, {c})->duplicate);
  EXPECT_TRUE(catalog_->RecordReport("dev-1", ok, {c})->duplicate);
  EXPECT_EQ(catalog_->RecordReport("dev-2", Report("r2", "op_2", v1::SUCCESS), {}).status().code(),
            absl::StatusCode::kNotFound);
  v1::Release other;
  other.set_release_id("rel_2");
  other.set_package_id("pkg_1");
  other.set_version("2.0.0");
  other.mutable_artifact()->set_sha256(std::string(64, 'b'));
  ASSERT_TRUE(catalog_->CreateRelease(other, kNow).ok());
  v1::ResultRecord wrong = Report("r3", "op_1", v1::SUCCESS);
  wrong.set_release_id("rel_2");
  EXPECT_EQ(catalog_->RecordReport("dev-1", wrong, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A later report of a completed operation keeps the first outcome.
  EXPECT_FALSE(
      catalog_->RecordReport("dev-1", Report("r4", "op_2", v1::DEACTIVATE_FAILED), {})->duplicate);

  auto listed = ops_->List("dev-1", 10);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].state(), Op::SUCCEEDED);
  EXPECT_EQ((*listed)[1].result(), v1::SUCCESS);
  EXPECT_EQ((*listed)[1].completed_at_unix(), absl::ToUnixSeconds(kNow) + 60);
  EXPECT_EQ((*listed)[0].state(), Op::DELIVERED);
  EXPECT_EQ(ops_->List("dev-1", 1)->at(0).operation_id(), "op_2");
  EXPECT_EQ(ops_->TakePending("dev-1", kNow)->size(), 1u);

  auto state = catalog_->GetDeviceState("dev-1", 10);
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->deployed_size(), 1);
  EXPECT_EQ(state->deployed(0).state(), v1::INACTIVE);
  ASSERT_EQ(state->history_size(), 2);
  EXPECT_EQ(state->history(0).operation_id(), "op_2");
  EXPECT_EQ(state->history(0).applied_settings().at("volume"), "9");
  EXPECT_TRUE(state->history(1).applied_settings().empty());
}

TEST_F(PgOperationStoreTest, ConcurrentReportsFromOneDeviceAreEachRecordedOnce) {
  std::vector<Op> ops;
  for (int i = 0; i < 8; ++i) {
    ops.push_back(Make(absl::StrCat("op_", i), "dev-1", Op::ACTIVATE, absl::StrCat("DC_", i)));
  }
  ASSERT_TRUE(ops_->Queue(ops).ok());
  ASSERT_EQ(ops_->TakePending("dev-1", kNow)->size(), 8u);
  std::atomic<int> fresh{0}, duplicates{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Every thread sends every report (a device retrying on four
      // connections): each is recorded once.
      for (int i = 0; i < 8; ++i) {
        int k = (i + t * 2) % 8;
        auto r = catalog_->RecordReport(
            "dev-1", Report(absl::StrCat("rep_", k), absl::StrCat("op_", k), v1::SUCCESS), {});
        if (!r.ok()) {
          ++errors;
        } else if (r->duplicate) {
          ++duplicates;
        } else {
          ++fresh;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(fresh.load(), 8);
  EXPECT_EQ(duplicates.load(), 24);
  auto listed = ops_->List("dev-1", 100);  // outlives the loop
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const Op& op : *listed) EXPECT_EQ(op.state(), Op::SUCCEEDED);
  EXPECT_TRUE(ops_->TakePending("dev-1", kNow)->empty());
  EXPECT_EQ(catalog_->GetDeviceState("dev-1", 100)->history_size(), 8);
}

}  // namespace
}  // namespace updraft::catalog
