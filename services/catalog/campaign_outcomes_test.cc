#include "services/catalog/campaign_outcomes.h"

#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/catalog/campaign_fake_store.h"

namespace updraft::catalog {
namespace {

// A store whose staged-offer lookups fail (database unreachable).
class UnreadableStore : public FakeCampaignStore {
 public:
  absl::StatusOr<bool> InStartedWave(const std::string&, const std::string&) override {
    return absl::UnavailableError("database down");
  }
};

class CampaignOutcomesTest : public ::testing::Test {
 protected:
  CampaignOutcomesTest() : clock_(absl::FromUnixSeconds(1800000000)) {}

  // Campaign `id` of rel_1 holding "queued" (wave 0) and "x" (wave 1,
  // NOTIFIED).
  void AddCampaign(FakeCampaignStore& store, const std::string& id, bool gated) {
    store.AddRelease("rel_1");
    v1::Campaign c;
    c.set_campaign_id(id);
    c.set_state(v1::CAMPAIGN_RUNNING);
    c.mutable_spec()->set_release_id("rel_1");
    c.mutable_spec()->set_gate_offers(gated);
    v1::CampaignEvent created;
    created.set_campaign_id(id);
    ASSERT_TRUE(store.Create(c, created, clock_.Now()).ok());
    auto added = store.WithCampaign(id, true, [&](CampaignTxn& txn) -> absl::Status {
      absl::Status s =
          txn.AddDevices({{"queued", 1}}, 0, v1::CAMPAIGN_DEVICE_QUEUED, clock_.Now()).status();
      if (!s.ok()) return s;
      return txn.AddDevices({{"x", 2}}, 1, v1::CAMPAIGN_DEVICE_NOTIFIED, clock_.Now()).status();
    });
    ASSERT_TRUE(added.ok()) << added.status();
  }

  v1::CampaignDeviceState StateOf(const std::string& device_id) {
    return store_.GetDevice("cmp_1", device_id).state;
  }

  FakeClock clock_;
  FakeCampaignStore store_;
  CampaignOutcomes outcomes_{{.store = &store_, .clock = &clock_}};
};

// Moved from campaign_engine_test.
TEST_F(CampaignOutcomesTest, ChecksRecordAttributesWhenChangedAndDownloads) {
  AddCampaign(store_, "cmp_1", false);
  v1::DeviceAttributes a;
  a.set_model("M1");
  outcomes_.OnCheck("x", a, {});
  outcomes_.OnCheck("x", a, {});
  EXPECT_EQ(store_.attribute_writes(), 1);
  a.set_os_version("14");
  outcomes_.OnCheck("x", a, {"rel_other", "rel_1"});
  EXPECT_EQ(store_.attribute_writes(), 2);
  EXPECT_EQ(StateOf("x"), v1::CAMPAIGN_DEVICE_DOWNLOADING);
  outcomes_.OnCheck("queued", a, {"rel_1"});
  EXPECT_EQ(StateOf("queued"), v1::CAMPAIGN_DEVICE_QUEUED);  // Not in a wave: not downloading.
  outcomes_.OnReport("x", "rel_1", v1::SUCCESS);
  EXPECT_EQ(StateOf("x"), v1::CAMPAIGN_DEVICE_INSTALLED);
}

// Moved from campaign_engine_test: once the active releases are known, a
// check offering none of them costs no store write.
TEST_F(CampaignOutcomesTest, ChecksOfferingNoCampaignReleaseWriteNothing) {
  AddCampaign(store_, "cmp_1", false);
  outcomes_.OnCheck("x", v1::DeviceAttributes(), {"rel_other"});
  EXPECT_EQ(store_.outcome_calls(), 1);  // Not loaded yet: nothing is skipped.
  ASSERT_TRUE(outcomes_.RefreshReleases().ok());
  outcomes_.OnCheck("x", v1::DeviceAttributes(), {"rel_other"});
  EXPECT_EQ(store_.outcome_calls(), 1);
  outcomes_.OnCheck("x", v1::DeviceAttributes(), {"rel_other", "rel_1"});
  EXPECT_EQ(store_.outcome_calls(), 2);
  outcomes_.AddRelease("rel_new", false);
  outcomes_.OnCheck("x", v1::DeviceAttributes(), {"rel_new"});
  EXPECT_EQ(store_.outcome_calls(), 3);
}

// A failure is final until the device succeeds; a success counts even for a
// device not yet in a wave; repeated reports add no event.
TEST_F(CampaignOutcomesTest, ReportsMoveDevicesOnceAndSuccessesCountAnywhere) {
  AddCampaign(store_, "cmp_1", false);
  outcomes_.OnReport("x", "rel_1", v1::INSTALL_FAILED);
  EXPECT_EQ(StateOf("x"), v1::CAMPAIGN_DEVICE_FAILED);
  EXPECT_EQ(store_.GetDevice("cmp_1", "x").last_result, v1::INSTALL_FAILED);
  const size_t events = store_.Events("cmp_1", 0, 100, nullptr)->size();
  outcomes_.OnReport("x", "rel_1", v1::INSTALL_FAILED);
  outcomes_.OnReport("x", "rel_1", v1::DOWNLOAD_FAILED);
  EXPECT_EQ(store_.Events("cmp_1", 0, 100, nullptr)->size(), events);
  outcomes_.OnReport("x", "rel_1", v1::SUCCESS);
  EXPECT_EQ(StateOf("x"), v1::CAMPAIGN_DEVICE_INSTALLED);
  outcomes_.OnReport("queued", "rel_1", v1::INSTALL_FAILED);
  EXPECT_EQ(StateOf("queued"), v1::CAMPAIGN_DEVICE_QUEUED);
  outcomes_.OnReport("queued", "rel_1", v1::SUCCESS);
  EXPECT_EQ(StateOf("queued"), v1::CAMPAIGN_DEVICE_INSTALLED);
  outcomes_.OnReport("x", "rel_other", v1::INSTALL_FAILED);  // Another release: no change.
  EXPECT_EQ(StateOf("x"), v1::CAMPAIGN_DEVICE_INSTALLED);
}

TEST_F(CampaignOutcomesTest, GatedOffersReachOnlyDevicesWhoseWaveStarted) {
  AddCampaign(store_, "cmp_1", true);
  EXPECT_TRUE(outcomes_.MayOffer("queued", "rel_1"));  // Gates not loaded yet.
  ASSERT_TRUE(outcomes_.RefreshReleases().ok());
  EXPECT_TRUE(outcomes_.MayOffer("x", "rel_1"));
  EXPECT_FALSE(outcomes_.MayOffer("queued", "rel_1"));
  EXPECT_FALSE(outcomes_.MayOffer("stranger", "rel_1"));
  EXPECT_TRUE(outcomes_.MayOffer("stranger", "rel_other"));
}

TEST_F(CampaignOutcomesTest, AnUnreadableCampaignStateRefusesAGatedOffer) {
  UnreadableStore store;
  AddCampaign(store, "cmp_1", false);
  CampaignOutcomes outcomes({.store = &store, .clock = &clock_});
  outcomes.AddRelease("rel_1", true);
  EXPECT_FALSE(outcomes.MayOffer("x", "rel_1"));
  EXPECT_TRUE(outcomes.MayOffer("x", "rel_other"));
}

}  // namespace
}  // namespace updraft::catalog
