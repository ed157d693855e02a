// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_catalog_store.h"

#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_migrations.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class PgCatalogStoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    int applied = 0;
    ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations(), &applied).ok());
    EXPECT_EQ(applied, static_cast<int>(CatalogMigrations().size()));
    store_ = std::make_unique<PgCatalogStore>(pool_.get());
    package_.set_package_id("pkg_0000000000000001");
    package_.set_name("player");
    package_.set_author("Acme");
    package_.set_description("Plays \"media\".");
    ASSERT_TRUE(store_->CreatePackage(package_, kNow).ok());
  }

  v1::Release Release(const std::string& id, const std::string& version) {
    v1::Release r;
    r.set_release_id(id);
    r.set_package_id(package_.package_id());
    r.set_version(version);
    r.set_state(v1::DRAFT);
    r.mutable_artifact()->set_sha256(std::string(64, 'e'));
    r.mutable_artifact()->set_size(5);
    r.mutable_artifact()->set_chunk_size(4);
    r.mutable_artifact()->add_chunk_sha256(std::string(32, '\0'));
    r.mutable_artifact()->add_chunk_sha256(std::string(32, '\xff'));
    r.mutable_artifact()->add_files("app.bin");
    r.mutable_artifact()->add_files("lib/a \"quoted\" \\ file.so");
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    auto* e = r.mutable_dcinfo()->add_entries();
    e->set_dc_id("DC_1");
    e->add_files("app.bin");
    e->add_files("lib/a \"quoted\" \\ file.so");
    e->set_author("Acme");
    e->set_name("DC_1");
    e->set_version(version);
    (*r.mutable_settings())["volume"] = "7";
    (*r.mutable_settings())["greeting"] = "caf\xc3\xa9 \"hi\" \\ \n end";
    return r;
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

  v1::InventoryComponent Component(const std::string& name, const std::string& version) {
    v1::InventoryComponent c;
    c.set_release_id("rel_0000000000000001");
    c.set_dc_id(name);
    c.set_author("Acme");
    c.set_name(name);
    c.set_version(version);
    c.set_location(v1::DEPLOYED);
    c.set_state(v1::ACTIVE);
    return c;
  }

  v1::ResultRecord Record(const std::string& report_id, v1::ResultCode code, int64_t at) {
    v1::ResultRecord r;
    r.set_report_id(report_id);
    r.set_release_id("rel_0000000000000001");
    r.set_result(code);
    r.set_message("msg " + report_id);
    r.set_reported_at_unix(at);
    return r;
  }

  std::unique_ptr<PgCatalogStore> store_;
  v1::Package package_;
};

TEST_F(PgCatalogStoreTest, Packages) {
  auto got = store_->GetPackage(package_.package_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), package_.SerializeAsString());
  v1::Package same_name = package_;
  same_name.set_package_id("pkg_0000000000000002");
  absl::Status s = store_->CreatePackage(same_name, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "package name player already exists");
  s = store_->GetPackage("pkg_0000000000000002").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "package pkg_0000000000000002 not found");
}

TEST_F(PgCatalogStoreTest, CreatePublishList) {
  v1::Release r = Release("rel_0000000000000001", "1.0.0");
  ASSERT_TRUE(store_->CreateRelease(r, kNow).ok());
  ASSERT_TRUE(store_->CreateRelease(Release("rel_0000000000000002", "1.1.0-rc.1"), kNow).ok());

  auto got = store_->GetRelease(r.release_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state(), v1::DRAFT);
  EXPECT_EQ(got->package_name(), "player");
  EXPECT_EQ(got->description(), "Plays \"media\".");
  EXPECT_EQ(got->artifact().SerializeAsString(), r.artifact().SerializeAsString());
  EXPECT_EQ(got->dcinfo().SerializeAsString(), r.dcinfo().SerializeAsString());
  EXPECT_EQ(got->settings().size(), 2u);
  EXPECT_EQ(got->settings().at("greeting"), r.settings().at("greeting"));
  EXPECT_EQ(Count("SELECT count(*) FROM release_dcs WHERE release_id = 'rel_0000000000000001'"
                  " AND files = ARRAY['app.bin', 'lib/a \"quoted\" \\ file.so']"),
            1);

  auto listed = store_->ListPublicReleases();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  auto published = store_->PublishRelease(r.release_id(), nullptr, kNow + absl::Hours(1));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->state(), v1::PUBLISHED);
  EXPECT_EQ(published->settings().at("volume"), "7");
  ASSERT_TRUE(store_->PublishRelease(r.release_id(), nullptr, kNow + absl::Hours(2)).ok());
  EXPECT_FALSE(published->has_signed_metadata());
  v1::SignedReleaseMetadata signed_metadata;
  signed_metadata.set_metadata(std::string("\0meta\xff", 6));
  signed_metadata.set_key_id("k1");
  signed_metadata.set_signature(std::string(64, '\x01'));
  auto resigned = store_->PublishRelease(r.release_id(), &signed_metadata, kNow + absl::Hours(3));
  ASSERT_TRUE(resigned.ok()) << resigned.status();
  EXPECT_EQ(resigned->signed_metadata().SerializeAsString(), signed_metadata.SerializeAsString());
  auto reread = store_->PublishRelease(r.release_id(), nullptr, kNow + absl::Hours(4));
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->signed_metadata().metadata(), signed_metadata.metadata());  // kept
  EXPECT_EQ(Count("SELECT extract(epoch FROM published_at)::bigint FROM releases"
                  " WHERE release_id = 'rel_0000000000000001'"),
            absl::ToUnixSeconds(kNow + absl::Hours(1)));  // the first publication counts

  listed = store_->ListPublicReleases();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].release_id(), r.release_id());
  EXPECT_EQ((*listed)[0].package_name(), "player");
  EXPECT_EQ((*listed)[0].settings().at("greeting"), r.settings().at("greeting"));
  EXPECT_EQ((*listed)[0].dcinfo().SerializeAsString(), r.dcinfo().SerializeAsString());

  absl::Status s = store_->PublishRelease("rel_ffffffffffffffff", nullptr, kNow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "release rel_ffffffffffffffff not found");
}

TEST_F(PgCatalogStoreTest, DuplicateVersionLeavesNothing) {
  ASSERT_TRUE(store_->CreateRelease(Release("rel_0000000000000001", "1.0.0"), kNow).ok());
  v1::Release again = Release("rel_0000000000000002", "1.0.0");
  again.mutable_dcinfo()->mutable_entries(0)->set_dc_id("DC_9");
  absl::Status s = store_->CreateRelease(again, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "release 1.0.0 of package pkg_0000000000000001 already exists");
  EXPECT_EQ(store_->GetRelease("rel_0000000000000002").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM releases"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM release_dcs"), 1);

  v1::Release orphan = Release("rel_0000000000000003", "2.0.0");
  orphan.set_package_id("pkg_ffffffffffffffff");
  s = store_->CreateRelease(orphan, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM releases"), 1);
}

TEST_F(PgCatalogStoreTest, RecordReportIsIdempotentAndReplacesDeployedOnSuccess) {
  ASSERT_TRUE(store_->CreateRelease(Release("rel_0000000000000001", "1.0.0"), kNow).ok());
  auto r = store_->RecordReport("dev-1", Record("a", v1::SUCCESS, 100),
                                {Component("x", "1"), Component("y", "1")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->release_id, "rel_0000000000000001");
  EXPECT_EQ(r->result, v1::SUCCESS);
  r = store_->RecordReport("dev-1", Record("a", v1::INSTALL_FAILED, 101), {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->result, v1::SUCCESS);  // what was recorded first
  EXPECT_EQ(r->release_id, "rel_0000000000000001");

  auto state = store_->GetDeviceState("dev-1", 10);
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->deployed_size(), 2);
  EXPECT_EQ(state->deployed(0).name(), "x");
  EXPECT_EQ(state->deployed(0).location(), v1::DEPLOYED);
  EXPECT_EQ(state->deployed(0).state(), v1::ACTIVE);
  EXPECT_EQ(state->deployed(0).release_id(), "rel_0000000000000001");
  ASSERT_EQ(state->history_size(), 1);
  EXPECT_EQ(state->history(0).result(), v1::SUCCESS);
  EXPECT_EQ(state->history(0).message(), "msg a");
  EXPECT_EQ(state->history(0).reported_at_unix(), 100);

  // A failure keeps the Deployed components; a success replaces them.
  ASSERT_TRUE(store_->RecordReport("dev-1", Record("b", v1::INSTALL_FAILED, 200), {}).ok());
  EXPECT_EQ(store_->GetDeviceState("dev-1", 10)->deployed_size(), 2);
  v1::InventoryComponent offline = Component("z", "3");
  offline.clear_release_id();
  offline.clear_dc_id();
  offline.set_state(v1::INACTIVE);
  ASSERT_TRUE(
      store_->RecordReport("dev-1", Record("c", v1::SUCCESS, 300), {Component("y", "2"), offline})
          .ok());
  state = store_->GetDeviceState("dev-1", 10);
  ASSERT_EQ(state->deployed_size(), 2);
  EXPECT_EQ(state->deployed(0).name(), "y");
  EXPECT_EQ(state->deployed(0).version(), "2");
  EXPECT_EQ(state->deployed(1).name(), "z");
  EXPECT_EQ(state->deployed(1).release_id(), "");
  EXPECT_EQ(state->deployed(1).state(), v1::INACTIVE);
  std::vector<std::string> ids;
  for (const auto& h : state->history()) ids.push_back(h.report_id());
  EXPECT_THAT(ids, ElementsAre("a", "b", "c"));
  state = store_->GetDeviceState("dev-1", 2);
  ids.clear();
  for (const auto& h : state->history()) ids.push_back(h.report_id());
  EXPECT_THAT(ids, ElementsAre("b", "c"));  // the latest, oldest first

  // Reports within one second keep their arrival order, whatever their IDs.
  ASSERT_TRUE(store_->RecordReport("dev-3", Record("zz", v1::DOWNLOAD_FAILED, 500), {}).ok());
  ASSERT_TRUE(store_->RecordReport("dev-3", Record("aa", v1::SUCCESS, 500), {}).ok());
  ids.clear();
  state = store_->GetDeviceState("dev-3", 10);
  for (const auto& h : state->history()) ids.push_back(h.report_id());
  EXPECT_THAT(ids, ElementsAre("zz", "aa"));

  // Other devices are separate; unknown devices are empty.
  r = store_->RecordReport("dev-2", Record("a", v1::SUCCESS, 100), {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(store_->GetDeviceState("dev-2", 10)->deployed_size(), 0);
  EXPECT_EQ(store_->GetDeviceState("dev-1", 10)->deployed_size(), 2);
  state = store_->GetDeviceState("dev-404", 10);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->device_id(), "dev-404");
  EXPECT_EQ(state->history_size(), 0);

  absl::Status s = store_
                       ->RecordReport("dev-1",
                                      [&] {
                                        auto rec = Record("d", v1::SUCCESS, 400);
                                        rec.set_release_id("rel_ffffffffffffffff");
                                        return rec;
                                      }(),
                                      {})
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM device_reports WHERE report_id = 'd'"), 0);
}

TEST_F(PgCatalogStoreTest, MigrationsTwiceChangeNothing) {
  ASSERT_TRUE(store_->CreateRelease(Release("rel_0000000000000001", "1.0.0"), kNow).ok());
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations(), &applied).ok());
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations WHERE component = 'catalog'"),
            static_cast<int64_t>(CatalogMigrations().size()));
  EXPECT_EQ(Count("SELECT count(*) FROM releases"), 1);
  EXPECT_TRUE(store_->GetRelease("rel_0000000000000001").ok());
}

TEST_F(PgCatalogStoreTest, WithdrawKeepsHistoryAndCompatibilityRoundTrips) {
  v1::Release r = Release("rel_0000000000000001", "1.0.0");
  r.mutable_compatibility()->add_models("A1");
  r.mutable_compatibility()->add_models("B \"2\"");
  r.mutable_compatibility()->set_min_os_version("13");
  r.mutable_compatibility()->set_max_os_version("14.1.0");
  r.mutable_compatibility()->add_carriers("acme");
  ASSERT_TRUE(store_->CreateRelease(r, kNow).ok());
  absl::Status s = store_->WithdrawRelease(r.release_id(), kNow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "release rel_0000000000000001 is a draft; only a published release can be withdrawn");
  ASSERT_TRUE(store_->PublishRelease(r.release_id(), nullptr, kNow).ok());

  auto withdrawn = store_->WithdrawRelease(r.release_id(), kNow + absl::Hours(1));
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->state(), v1::WITHDRAWN);
  EXPECT_EQ(withdrawn->compatibility().SerializeAsString(), r.compatibility().SerializeAsString());
  ASSERT_TRUE(store_->WithdrawRelease(r.release_id(), kNow + absl::Hours(2)).ok());
  EXPECT_EQ(Count("SELECT extract(epoch FROM withdrawn_at)::bigint FROM releases"
                  " WHERE release_id = 'rel_0000000000000001'"),
            absl::ToUnixSeconds(kNow + absl::Hours(1)));
  EXPECT_EQ(Count("SELECT count(*) FROM releases WHERE published_at IS NOT NULL"), 1);

  s = store_->PublishRelease(r.release_id(), nullptr, kNow).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  auto listed = store_->ListPublicReleases();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state(), v1::WITHDRAWN);
  EXPECT_EQ((*listed)[0].compatibility().models(1), "B \"2\"");
  EXPECT_EQ(store_->WithdrawRelease("rel_ffffffffffffffff", kNow).status().code(),
            absl::StatusCode::kNotFound);
  // The schema refuses a state the code never writes.
  s = pool_->Transact([](pqxx::work& txn) {
    txn.exec("UPDATE releases SET state = 'GONE'");
    return absl::OkStatus();
  });
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace updraft::catalog
