// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_campaign_store.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/pg_campaign_fixture.h"

namespace updraft::catalog {
namespace {

using PgCampaignStoreTest = PgCampaignFixture;

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

TEST_F(PgCampaignStoreTest, ListedCampaignsCarryTheirOwnCounts) {
  v1::Campaign second = campaign_;
  second.set_campaign_id("cmp_2");
  ASSERT_TRUE(store_->Create(second, created_, kNow).ok());
  auto add = [&](const std::string& id, std::vector<NewCampaignDevice> devices, int wave) {
    ASSERT_TRUE(
        store_
            ->WithCampaign(
                id, true,
                [&](CampaignTxn& txn) {
                  return txn.AddDevices(devices, wave, v1::CAMPAIGN_DEVICE_PENDING, kNow).status();
                })
            .ok());
  };
  add("cmp_1", {{"a", 1}, {"b", 2}}, 1);
  add("cmp_1", {{"c", 3}}, 2);
  add("cmp_2", {{"a", 1}}, 1);

  auto page = store_->List("", 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].campaign.campaign_id(), "cmp_1");
  EXPECT_EQ((*page)[0].counts, *store_->Counts("cmp_1"));
  EXPECT_EQ((*page)[0].counts.at(1).at(v1::CAMPAIGN_DEVICE_PENDING), 2);
  EXPECT_EQ((*page)[0].counts.at(2).at(v1::CAMPAIGN_DEVICE_PENDING), 1);
  EXPECT_EQ((*page)[1].counts, *store_->Counts("cmp_2"));
  // A page ending before cmp_2 counts none of cmp_2's devices.
  auto first = store_->List("", 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].counts, *store_->Counts("cmp_1"));
  auto rest = store_->List("cmp_1", 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].counts.at(1).at(v1::CAMPAIGN_DEVICE_PENDING), 1);
}

// An outcome moves the device in every active campaign of the release
// where it is in one of the `from` states, with an event each; a repeated
// outcome changes nothing.
TEST_F(PgCampaignStoreTest, OutcomesMoveMatchingDevicesWithAnEvent) {
  ASSERT_TRUE(
      store_
          ->WithCampaign(
              "cmp_1", true,
              [&](CampaignTxn& txn) {
                return txn.AddDevices({{"b", 1}}, 1, v1::CAMPAIGN_DEVICE_NOTIFIED, kNow).status();
              })
          .ok());
  auto failed = store_->RecordOutcome("b", {"rel_1"}, {v1::CAMPAIGN_DEVICE_NOTIFIED},
                                      v1::CAMPAIGN_DEVICE_FAILED, v1::CAMPAIGN_EVENT_DEVICE_FAILED,
                                      v1::INSTALL_FAILED, kNow);
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->events.size(), 1u);
  EXPECT_EQ(failed->events[0].wave(), 1u);
  EXPECT_EQ((*store_->Counts("cmp_1"))[1][v1::CAMPAIGN_DEVICE_FAILED], 1);
  // Not in a matching state any more: nothing happens.
  EXPECT_TRUE(store_
                  ->RecordOutcome("b", {"rel_1"}, {v1::CAMPAIGN_DEVICE_NOTIFIED},
                                  v1::CAMPAIGN_DEVICE_FAILED, v1::CAMPAIGN_EVENT_DEVICE_FAILED,
                                  v1::INSTALL_FAILED, kNow)
                  ->events.empty());
  EXPECT_TRUE(store_
                  ->RecordOutcome("b", {"rel_other"}, {v1::CAMPAIGN_DEVICE_FAILED},
                                  v1::CAMPAIGN_DEVICE_INSTALLED,
                                  v1::CAMPAIGN_EVENT_DEVICE_INSTALLED, v1::SUCCESS, kNow)
                  ->events.empty());
  int64_t settled = -1;
  auto events = *store_->Events("cmp_1", 0, 100, &settled);
  EXPECT_EQ(settled, 0);  // Just inserted: not settled yet.
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), v1::CAMPAIGN_EVENT_CREATED);
  EXPECT_EQ(events[1].result(), v1::INSTALL_FAILED);
  EXPECT_EQ(events[1].event_id(), failed->events[0].event_id());
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

TEST_F(PgCampaignStoreTest, AttributesMatchModelsAndCarriers) {
  v1::DeviceAttributes a;
  a.set_model("M1");
  a.set_carrier("Orange");
  ASSERT_TRUE(store_->PutAttributes("d1", a, kNow).ok());
  a.set_model("M2");
  ASSERT_TRUE(store_->PutAttributes("d2", a, kNow).ok());
  EXPECT_EQ(store_->MatchAttributes({"M2"}, {}, "", 10)->size(), 1u);
  EXPECT_EQ(store_->MatchAttributes({}, {"Orange"}, "d1", 10)->size(), 1u);
  EXPECT_EQ(store_->MatchAttributes({}, {"SFR"}, "", 10)->size(), 0u);
}

}  // namespace
}  // namespace updraft::catalog
