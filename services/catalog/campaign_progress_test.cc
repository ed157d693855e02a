#include "services/catalog/campaign_progress.h"

#include "gtest/gtest.h"
#include "services/catalog/campaign_validation.h"

namespace updraft::catalog {
namespace {

TEST(CampaignProgressTest, CountsReadZeroForWhatIsNotCounted) {
  CampaignCounts counts;
  counts[1][v1::CAMPAIGN_DEVICE_FAILED] = 2;
  EXPECT_EQ(CampaignDeviceCount(counts, 1, v1::CAMPAIGN_DEVICE_FAILED), 2);
  EXPECT_EQ(CampaignDeviceCount(counts, 1, v1::CAMPAIGN_DEVICE_INSTALLED), 0);
  EXPECT_EQ(CampaignDeviceCount(counts, 7, v1::CAMPAIGN_DEVICE_FAILED), 0);
  counts[1][v1::CAMPAIGN_DEVICE_NOTIFIED] = 5;
  EXPECT_EQ(CampaignDevicesIn(counts[1]), 7);
  EXPECT_EQ(CampaignDevicesIn({}), 0);
}

TEST(CampaignProgressTest, FillProgressReportsEveryWaveOfTheSpec) {
  v1::Campaign c;
  for (int i = 0; i < 3; ++i) c.mutable_spec()->add_waves()->set_percent(30);
  c.add_waves()->set_wave(99);  // Stale counters are replaced.
  CampaignCounts counts;
  counts[0][v1::CAMPAIGN_DEVICE_QUEUED] = 4;
  counts[0][v1::CAMPAIGN_DEVICE_INSTALLED] = 1;
  counts[1][v1::CAMPAIGN_DEVICE_PENDING] = 1;
  counts[1][v1::CAMPAIGN_DEVICE_NOTIFIED] = 2;
  counts[1][v1::CAMPAIGN_DEVICE_DOWNLOADING] = 3;
  counts[1][v1::CAMPAIGN_DEVICE_INSTALLED] = 4;
  counts[1][v1::CAMPAIGN_DEVICE_FAILED] = 5;
  counts[2][v1::CAMPAIGN_DEVICE_INSTALLED] = 6;
  FillProgress(counts, &c);
  EXPECT_EQ(c.queued_devices(), 4);
  EXPECT_EQ(c.installed_outside_waves(), 1);
  ASSERT_EQ(c.waves_size(), 3);
  const v1::WaveProgress& w1 = c.waves(0);
  EXPECT_EQ(w1.wave(), 1u);
  EXPECT_EQ(w1.devices(), 15);
  EXPECT_EQ(w1.pending(), 1);
  EXPECT_EQ(w1.notified(), 2);
  EXPECT_EQ(w1.downloading(), 3);
  EXPECT_EQ(w1.installed(), 4);
  EXPECT_EQ(w1.failed(), 5);
  EXPECT_EQ(c.waves(1).devices(), 6);
  EXPECT_EQ(c.waves(2).wave(), 3u);
  EXPECT_EQ(c.waves(2).devices(), 0);
}

TEST(CampaignProgressTest, TtlDefaultsAndEventsCarryTheCurrentWave) {
  v1::CampaignSpec spec;
  EXPECT_EQ(CampaignTtl(spec), kDefaultCampaignTtl);
  spec.set_ttl_seconds(3600);
  EXPECT_EQ(CampaignTtl(spec), absl::Hours(1));

  v1::Campaign c;
  c.set_campaign_id("cmp_1");
  c.set_current_wave(2);
  v1::CampaignEvent e =
      NewCampaignEvent(c, v1::CAMPAIGN_EVENT_PAUSED, absl::FromUnixSeconds(1800000000));
  EXPECT_EQ(e.campaign_id(), "cmp_1");
  EXPECT_EQ(e.type(), v1::CAMPAIGN_EVENT_PAUSED);
  EXPECT_EQ(e.wave(), 2u);
  EXPECT_EQ(e.at_unix(), 1800000000);
  EXPECT_EQ(e.event_id(), 0);
}

}  // namespace
}  // namespace updraft::catalog
