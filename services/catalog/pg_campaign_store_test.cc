// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_campaign_store.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "common/migrations.h"
#include "common/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_migrations.h"
#include "services/catalog/pg_catalog_store.h"

namespace updraft::catalog {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class PgCampaignStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 4});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations()).ok());
    PgCatalogStore catalog(pool_.get());
    v1::Package p;
    p.set_package_id("pkg_1");
    p.set_name("player");
    p.set_author("Acme");
    ASSERT_TRUE(catalog.CreatePackage(p, kNow).ok());
    v1::Release r;
    r.set_release_id("rel_1");
    r.set_package_id("pkg_1");
    r.set_version("1.0.0");
    r.set_state(v1::DRAFT);
    r.mutable_artifact()->set_sha256(std::string(64, 'e'));
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    ASSERT_TRUE(catalog.CreateRelease(r, kNow).ok());
    store_ = std::make_unique<PgCampaignStore>(pool_.get());
    campaign_.set_campaign_id("cmp_1");
    campaign_.mutable_spec()->set_name("roll \"out\"");
    campaign_.mutable_spec()->set_release_id("rel_1");
    campaign_.mutable_spec()->add_waves()->set_percent(100);
    campaign_.set_state(v1::CAMPAIGN_RUNNING);
    campaign_.set_software_name("player 1.0.0");
    campaign_.set_created_by("key_1");
    created_.set_campaign_id("cmp_1");
    created_.set_type(v1::CAMPAIGN_EVENT_CREATED);
    ASSERT_TRUE(store_->Create(campaign_, created_, kNow).ok());
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgCampaignStore> store_;
  v1::Campaign campaign_;
  v1::CampaignEvent created_;
};

TEST_F(PgCampaignStoreTest, CreateGetListAndUnknownRelease) {
  auto got = store_->Get("cmp_1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->spec().name(), "roll \"out\"");
  EXPECT_EQ(got->state(), v1::CAMPAIGN_RUNNING);
  EXPECT_EQ(got->created_at_unix(), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(store_->Get("cmp_2").status().code(), absl::StatusCode::kNotFound);
  v1::Campaign other = campaign_;
  other.set_campaign_id("cmp_2");
  other.mutable_spec()->set_release_id("rel_missing");
  EXPECT_EQ(store_->Create(other, created_, kNow).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Create(campaign_, created_, kNow).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->List("", 10)->size(), 1u);
  EXPECT_EQ(store_->List("cmp_1", 10)->size(), 0u);
  EXPECT_EQ(*store_->Running(), std::vector<std::string>{"cmp_1"});
}

TEST_F(PgCampaignStoreTest, TransactionOperationsAndOutcomes) {
  v1::DeviceAttributes tz;
  tz.set_time_zone("Asia/Tokyo");
  ASSERT_TRUE(store_->PutAttributes("b", tz, kNow).ok());
  auto ran = store_->WithCampaign("cmp_1", false, [&](CampaignTxn& txn) -> absl::Status {
    EXPECT_EQ(*txn.AddDevices({{"a", 3}, {"b", 1}, {"c\"q", 2}, {"a", 9}}, 0,
                              v1::CAMPAIGN_DEVICE_QUEUED, kNow),
              3);
    EXPECT_EQ(*txn.Queued(2), (std::vector<std::string>{"b", "c\"q"}));
    EXPECT_TRUE(txn.StartDevices({{"b", kNow}, {"c\"q", kNow + absl::Seconds(5)}}, 1, kNow).ok());
    auto due = *txn.Due(kNow, 10);
    EXPECT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].device_id, "b");
    EXPECT_EQ(due[0].time_zone, "Asia/Tokyo");
    EXPECT_EQ(due[0].attempts, 0);
    EXPECT_TRUE(txn.Defer({{"b", kNow + absl::Hours(1)}}).ok());
    EXPECT_TRUE(txn.Due(kNow, 10)->empty());
    EXPECT_EQ(txn.Due(kNow + absl::Seconds(5), 10)->size(), 1u);
    EXPECT_TRUE(txn.MarkNotified({"b"}, kNow).ok());
    v1::Campaign c = txn.campaign();
    c.set_current_wave(1);
    c.set_state_reason("r");
    EXPECT_TRUE(txn.Save(c).ok());
    CampaignCounts counts = *txn.Counts();
    EXPECT_EQ(counts[0][v1::CAMPAIGN_DEVICE_QUEUED], 1);
    EXPECT_EQ(counts[1][v1::CAMPAIGN_DEVICE_NOTIFIED], 1);
    EXPECT_EQ(counts[1][v1::CAMPAIGN_DEVICE_PENDING], 1);
    return absl::OkStatus();
  });
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_TRUE(*ran);
  EXPECT_EQ(store_->Get("cmp_1")->current_wave(), 1u);

  auto failed = store_->RecordOutcome("b", {"rel_1"}, {v1::CAMPAIGN_DEVICE_NOTIFIED},
                                      v1::CAMPAIGN_DEVICE_FAILED, v1::CAMPAIGN_EVENT_DEVICE_FAILED,
                                      v1::INSTALL_FAILED, kNow);
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->events.size(), 1u);
  EXPECT_EQ(failed->events[0].wave(), 1u);
  // Not in a matching state any more: nothing happens.
  EXPECT_TRUE(store_
                  ->RecordOutcome("b", {"rel_1"}, {v1::CAMPAIGN_DEVICE_NOTIFIED},
                                  v1::CAMPAIGN_DEVICE_FAILED, v1::CAMPAIGN_EVENT_DEVICE_FAILED,
                                  v1::INSTALL_FAILED, kNow)
                  ->events.empty());
  ASSERT_TRUE(store_
                  ->WithCampaign("cmp_1", true,
                                 [&](CampaignTxn& txn) -> absl::Status {
                                   EXPECT_TRUE(
                                       txn.Retry(1, kNow - absl::Seconds(1), kNow)->empty());
                                   auto r = *txn.Retry(1, kNow, kNow);
                                   EXPECT_EQ(r.size(), 1u);
                                   EXPECT_EQ(r[0].attempts, 1);
                                   EXPECT_TRUE(txn.Retry(1, kNow, kNow)->empty());
                                   auto due = *txn.Due(kNow + absl::Seconds(5), 10);
                                   EXPECT_EQ(due.size(), 2u);  // "c\"q" and the retried "b"
                                   for (const DueDevice& d : due) {
                                     EXPECT_EQ(d.attempts, d.device_id == "b" ? 1 : 0);
                                   }
                                   return absl::OkStatus();
                                 })
                  .ok());
  int64_t settled = -1;
  auto events = *store_->Events("cmp_1", 0, 100, &settled);
  EXPECT_EQ(settled, 0);  // Just inserted: not settled yet.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), v1::CAMPAIGN_EVENT_CREATED);
  EXPECT_EQ(events[1].result(), v1::INSTALL_FAILED);
  EXPECT_EQ(store_->Events("cmp_1", events[1].event_id(), 100, nullptr)->size(), 0u);
}

TEST_F(PgCampaignStoreTest, ActiveReleasesAndStartedWavesForStagedOffers) {
  auto active = store_->ActiveReleases();
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_THAT(active->all, ::testing::ElementsAre("rel_1"));
  EXPECT_TRUE(active->gated.empty());
  v1::Campaign gated = campaign_;
  gated.set_campaign_id("cmp_2");
  gated.mutable_spec()->set_gate_offers(true);
  ASSERT_TRUE(store_->Create(gated, created_, kNow).ok());
  active = store_->ActiveReleases();
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_THAT(active->gated, ::testing::ElementsAre("rel_1"));

  ASSERT_TRUE(
      store_
          ->WithCampaign(
              "cmp_2", true,
              [&](CampaignTxn& txn) -> absl::Status {
                EXPECT_TRUE(
                    txn.AddDevices({{"queued", 1}}, 0, v1::CAMPAIGN_DEVICE_QUEUED, kNow).ok());
                EXPECT_TRUE(
                    txn.AddDevices({{"started", 2}}, 1, v1::CAMPAIGN_DEVICE_PENDING, kNow).ok());
                return absl::OkStatus();
              })
          .ok());
  EXPECT_TRUE(*store_->InStartedWave("started", "rel_1"));
  EXPECT_FALSE(*store_->InStartedWave("queued", "rel_1"));
  EXPECT_FALSE(*store_->InStartedWave("stranger", "rel_1"));
  EXPECT_FALSE(*store_->InStartedWave("started", "rel_other"));
}

TEST_F(PgCampaignStoreTest, AFailedCallbackLeavesNoTrace) {
  auto r = store_->WithCampaign("cmp_1", true, [&](CampaignTxn& txn) {
    EXPECT_EQ(*txn.AddDevices({{"a", 1}}, 0, v1::CAMPAIGN_DEVICE_QUEUED, kNow), 1);
    return absl::InternalError("boom");
  });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store_->Counts("cmp_1")->empty());
  EXPECT_EQ(store_->WithCampaign("cmp_9", true, [](CampaignTxn&) { return absl::OkStatus(); })
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PgCampaignStoreTest, ASecondReplicaSkipsALockedCampaign) {
  absl::Notification locked, release;
  std::thread holder([&] {
    (void)store_->WithCampaign("cmp_1", true, [&](CampaignTxn&) {
      locked.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
  });
  locked.WaitForNotification();
  bool called = false;
  auto r = store_->WithCampaign("cmp_1", false, [&](CampaignTxn&) {
    called = true;
    return absl::OkStatus();
  });
  release.Notify();
  holder.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_FALSE(called);
}

TEST_F(PgCampaignStoreTest, AttributesAndWebhookDeliveries) {
  v1::DeviceAttributes a;
  a.set_model("M1");
  a.set_carrier("Orange");
  ASSERT_TRUE(store_->PutAttributes("d1", a, kNow).ok());
  a.set_model("M2");
  ASSERT_TRUE(store_->PutAttributes("d2", a, kNow).ok());
  EXPECT_EQ(store_->MatchAttributes({"M2"}, {}, "", 10)->size(), 1u);
  EXPECT_EQ(store_->MatchAttributes({}, {"Orange"}, "d1", 10)->size(), 1u);
  EXPECT_EQ(store_->MatchAttributes({}, {"SFR"}, "", 10)->size(), 0u);

  v1::Webhook w;
  w.set_webhook_id("whk_1");
  w.set_url("https://hooks.example/x");
  w.set_created_at_unix(absl::ToUnixSeconds(kNow));
  ASSERT_TRUE(store_->CreateWebhook(w, "0123456789abcdef").ok());
  EXPECT_EQ(store_->ListWebhooks()->size(), 1u);
  ASSERT_TRUE(store_
                  ->WithCampaign("cmp_1", true,
                                 [&](CampaignTxn& txn) {
                                   v1::CampaignEvent e;
                                   e.set_campaign_id("cmp_1");
                                   e.set_type(v1::CAMPAIGN_EVENT_PAUSED);
                                   return txn.AddEvent(e, kNow);
                                 })
                  .ok());
  auto due = store_->ClaimDeliveries(kNow, kNow + absl::Minutes(2), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].secret, "0123456789abcdef");
  EXPECT_EQ((*due)[0].event.type(), v1::CAMPAIGN_EVENT_PAUSED);
  EXPECT_TRUE(store_->ClaimDeliveries(kNow, kNow, 10)->empty());  // Leased.
  ASSERT_TRUE(store_
                  ->FinishDelivery((*due)[0].delivery_id, false, false, kNow + absl::Seconds(10),
                                   "HTTP 500", kNow)
                  .ok());
  auto again = store_->ClaimDeliveries(kNow + absl::Seconds(10), kNow + absl::Minutes(3), 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);
  ASSERT_TRUE(store_->FinishDelivery((*again)[0].delivery_id, true, false, kNow, "", kNow).ok());
  EXPECT_TRUE(store_->ClaimDeliveries(kNow + absl::Hours(1), kNow + absl::Hours(2), 10)->empty());
  EXPECT_TRUE(store_->DeleteWebhook("whk_1").ok());
  EXPECT_EQ(store_->DeleteWebhook("whk_1").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace updraft::catalog
