#include "services/catalog/campaign_targets.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "services/catalog/campaign_fake_store.h"
#include "services/catalog/fake_group_store.h"

namespace updraft::catalog {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class CampaignTargetsTest : public ::testing::Test {
 protected:
  // A running campaign "cmp_1" of rel_1 with `waves` equal waves, targeting
  // `device_ids`, wave `current_wave` started.
  void CreateCampaign(const std::vector<std::string>& device_ids, int waves = 1,
                      int current_wave = 0) {
    store_.AddRelease("rel_1");
    campaign_.set_campaign_id("cmp_1");
    campaign_.set_state(v1::CAMPAIGN_RUNNING);
    campaign_.set_current_wave(current_wave);
    campaign_.mutable_spec()->set_release_id("rel_1");
    for (const auto& id : device_ids)
      campaign_.mutable_spec()->mutable_targets()->add_device_ids(id);
    for (int i = 0; i < waves; ++i) campaign_.mutable_spec()->add_waves()->set_percent(100 / waves);
    v1::CampaignEvent created;
    created.set_campaign_id("cmp_1");
    ASSERT_TRUE(store_.Create(campaign_, created, kNow).ok());
  }

  absl::Status Resolve(absl::Time now) {
    return store_
        .WithCampaign("cmp_1", true, [&](CampaignTxn& txn) { return targets_.Resolve(txn, now); })
        .status();
  }

  absl::Status StartWave() {
    return store_
        .WithCampaign("cmp_1", true,
                      [&](CampaignTxn& txn) -> absl::Status {
                        v1::Campaign c = txn.campaign();
                        absl::StatusOr<CampaignCounts> counts = txn.Counts();
                        if (!counts.ok()) return counts.status();
                        return targets_.StartWave(txn, c, *counts, kNow);
                      })
        .status();
  }

  CampaignCounts Counts() { return *store_.Counts("cmp_1"); }

  uint64_t seed_ = 7;
  FakeCampaignStore store_;
  FakeGroupStore groups_;
  CampaignTargets targets_{{.store = &store_,
                            .groups = &groups_,
                            .random = [this] { return seed_ = seed_ * 6364136223846793005ULL + 1; },
                            .resolve_interval = absl::Minutes(1)}};
  v1::Campaign campaign_;
};

// Moved from campaign_engine_test: a group's new members join the campaign
// at the next resolution after resolve_interval, and a device named twice
// is in it once.
TEST_F(CampaignTargetsTest, DevicesJoiningATargetGroupAreIncluded) {
  ASSERT_TRUE(groups_.AddMembers("beta", {"a", "b"}, kNow).ok());
  campaign_.mutable_spec()->mutable_targets()->add_groups("beta");
  CreateCampaign({"a"});
  ASSERT_TRUE(Resolve(kNow).ok());
  EXPECT_EQ(Counts()[0][v1::CAMPAIGN_DEVICE_QUEUED], 2);
  ASSERT_TRUE(groups_.AddMembers("beta", {"c"}, kNow).ok());
  ASSERT_TRUE(Resolve(kNow + absl::Seconds(59)).ok());
  EXPECT_EQ(Counts()[0][v1::CAMPAIGN_DEVICE_QUEUED], 2);
  ASSERT_TRUE(Resolve(kNow + absl::Minutes(1)).ok());
  EXPECT_EQ(Counts()[0][v1::CAMPAIGN_DEVICE_QUEUED], 3);
  EXPECT_EQ(store_.GetDevice("cmp_1", "c").state, v1::CAMPAIGN_DEVICE_QUEUED);
}

// Moved from campaign_engine_test: only devices whose known attributes
// match the filter are targets; an unparsable OS version matches no range.
TEST_F(CampaignTargetsTest, AttributeFilterSelectsKnownDevices) {
  auto known = [&](const std::string& id, const std::string& model, const std::string& os) {
    v1::DeviceAttributes a;
    a.set_model(model);
    a.set_os_version(os);
    ASSERT_TRUE(store_.PutAttributes(id, a, kNow).ok());
  };
  known("a", "M1", "13.1");
  known("b", "M1", "12");
  known("c", "M2", "14");
  known("d", "M1", "not a version");
  known("e", "M1", "15");
  v1::AttributeFilter* f = campaign_.mutable_spec()->mutable_targets()->mutable_filter();
  f->add_models("M1");
  f->set_min_os_version("13");
  f->set_max_os_version("14.9");
  CreateCampaign({});
  ASSERT_TRUE(Resolve(kNow).ok());
  EXPECT_EQ(Counts()[0][v1::CAMPAIGN_DEVICE_QUEUED], 1);
  EXPECT_EQ(store_.GetDevice("cmp_1", "a").state, v1::CAMPAIGN_DEVICE_QUEUED);
}

TEST_F(CampaignTargetsTest, DevicesFoundAfterTheLastWaveStartedJoinItPending) {
  CreateCampaign({"late"}, /*waves=*/2, /*current_wave=*/2);
  ASSERT_TRUE(Resolve(kNow).ok());
  FakeCampaignStore::Device d = store_.GetDevice("cmp_1", "late");
  EXPECT_EQ(d.wave, 2);
  EXPECT_EQ(d.state, v1::CAMPAIGN_DEVICE_PENDING);
}

// Wave sizes: a percent of all devices rounded up, or a count; the last
// wave takes every queued device. Queued devices enter lowest rank first.
TEST_F(CampaignTargetsTest, WavesTakeTheirShareLowestRankFirst) {
  campaign_.mutable_spec()->add_waves()->set_percent(25);
  campaign_.mutable_spec()->add_waves()->set_count(3);
  campaign_.mutable_spec()->add_waves()->set_percent(10);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back("dev-" + std::to_string(i));
  CreateCampaign(ids, /*waves=*/0);
  ASSERT_TRUE(Resolve(kNow).ok());
  ASSERT_TRUE(StartWave().ok());
  EXPECT_EQ(Counts()[1][v1::CAMPAIGN_DEVICE_PENDING], 3);  // ceil(2.5)
  int64_t highest_started = 0, lowest_queued = INT64_MAX;
  for (const auto& id : ids) {
    FakeCampaignStore::Device d = store_.GetDevice("cmp_1", id);
    if (d.wave == 1) highest_started = std::max(highest_started, d.rank);
    if (d.wave == 0) lowest_queued = std::min(lowest_queued, d.rank);
  }
  EXPECT_LT(highest_started, lowest_queued);
  ASSERT_TRUE(StartWave().ok());
  EXPECT_EQ(Counts()[2][v1::CAMPAIGN_DEVICE_PENDING], 3);
  ASSERT_TRUE(StartWave().ok());
  EXPECT_EQ(Counts()[3][v1::CAMPAIGN_DEVICE_PENDING], 4);
  EXPECT_EQ(Counts()[0][v1::CAMPAIGN_DEVICE_QUEUED], 0);
  v1::Campaign got = *store_.Get("cmp_1");
  EXPECT_EQ(got.current_wave(), 3u);
  auto events = *store_.Events("cmp_1", 0, 100, nullptr);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].type(), v1::CAMPAIGN_EVENT_WAVE_STARTED);
  EXPECT_EQ(events[1].message(), "wave 1 of 3: 3 devices");
  EXPECT_EQ(events[3].wave(), 3u);
}

TEST_F(CampaignTargetsTest, JitterSpreadsAWaveOverItsWindow) {
  campaign_.mutable_spec()->set_jitter_seconds(100);
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("dev-" + std::to_string(i));
  CreateCampaign(ids);
  ASSERT_TRUE(Resolve(kNow).ok());
  ASSERT_TRUE(StartWave().ok());
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  for (const auto& id : ids) {
    absl::Time at = store_.GetDevice("cmp_1", id).notify_at;
    first = std::min(first, at);
    last = std::max(last, at);
  }
  EXPECT_GE(first, kNow);
  EXPECT_LT(last, kNow + absl::Seconds(100));
  EXPECT_GT(last - first, absl::Seconds(50));
}

}  // namespace
}  // namespace updraft::catalog
