#include "services/catalog/wave_announcer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/campaign_fake_store.h"
#include "services/catalog/mocks.h"

namespace updraft::catalog {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Return;

// 2026-11-22 13:00 UTC: 22:00 in Tokyo, 14:00 in Paris.
const absl::Time kCreated = absl::FromUnixSeconds(1795348800);
const absl::Time kNow = kCreated + absl::Hours(1);

class WaveAnnouncerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.AddRelease("rel_1");
    campaign_.set_campaign_id("cmp_1");
    campaign_.set_state(v1::CAMPAIGN_RUNNING);
    campaign_.set_software_name("demo-app 2.0.0");
    campaign_.set_created_at_unix(absl::ToUnixSeconds(kCreated));
    campaign_.mutable_spec()->set_release_id("rel_1");
    campaign_.mutable_spec()->add_channels(v1::CHANNEL_SMS);
    ON_CALL(announcer_, Announce(_)).WillByDefault([this](const v1::AnnounceRequest& r) {
      requests_.push_back(r);
      return v1::AnnounceResponse();
    });
  }

  void Create() {
    v1::CampaignEvent created;
    created.set_campaign_id("cmp_1");
    ASSERT_TRUE(store_.Create(campaign_, created, kCreated).ok());
  }

  // Adds `ids` to wave 1, PENDING since `kNow`, each retried `attempts` times.
  void AddPending(const std::vector<std::string>& ids, int attempts = 0) {
    ASSERT_TRUE(store_
                    .WithCampaign("cmp_1", true,
                                  [&](CampaignTxn& txn) -> absl::Status {
                                    std::vector<NewCampaignDevice> devices;
                                    for (const auto& id : ids) devices.push_back({id, 0});
                                    auto state = attempts > 0 ? v1::CAMPAIGN_DEVICE_FAILED
                                                              : v1::CAMPAIGN_DEVICE_PENDING;
                                    if (!txn.AddDevices(devices, 1, state, kNow).ok()) {
                                      return absl::InternalError("AddDevices");
                                    }
                                    for (int i = 0; i < attempts; ++i) {
                                      (void)txn.Retry(attempts, kNow, kNow);
                                    }
                                    return absl::OkStatus();
                                  })
                    .ok());
  }

  absl::Status AnnounceAt(absl::Time now, int batch = 500) {
    WaveAnnouncer announcer({.announcer = &announcer_, .announce_batch = batch});
    return store_
        .WithCampaign(
            "cmp_1", true,
            [&](CampaignTxn& txn) { return announcer.AnnounceDue(txn, txn.campaign(), now); })
        .status();
  }

  std::vector<std::string> Announced() {
    std::vector<std::string> out;
    for (const auto& r : requests_) {
      for (const auto& t : r.targets()) out.push_back(t.device_id());
    }
    requests_.clear();
    return out;
  }

  FakeCampaignStore store_;
  ::testing::NiceMock<MockAnnouncer> announcer_;
  std::vector<v1::AnnounceRequest> requests_;
  v1::Campaign campaign_;
};

TEST_F(WaveAnnouncerTest, OneAnnouncementPerWaveAndAttempt) {
  Create();
  AddPending({"a", "b"});
  AddPending({"r"}, /*attempts=*/1);
  ASSERT_TRUE(AnnounceAt(kNow).ok());
  ASSERT_EQ(requests_.size(), 2u);
  const v1::AnnounceRequest& first = requests_[0];
  EXPECT_EQ(first.idempotency_key(), "campaign/cmp_1/wave/1/attempt/0");
  EXPECT_EQ(first.idempotency_key(), CampaignAnnouncementKey("cmp_1", 1, 0));
  EXPECT_EQ(first.software_name(), "demo-app 2.0.0");
  EXPECT_EQ(first.location(), "rel_1");
  EXPECT_EQ(first.ttl_seconds(), 86400);  // The default TTL, clamped to a day.
  ASSERT_EQ(first.targets_size(), 2);
  EXPECT_THAT(first.targets(0).channels(), ElementsAre(v1::CHANNEL_SMS));
  EXPECT_EQ(requests_[1].idempotency_key(), CampaignAnnouncementKey("cmp_1", 1, 1));
  EXPECT_THAT(Announced(), ElementsAre("a", "b", "r"));
  for (const char* id : {"a", "b", "r"}) {
    EXPECT_EQ(store_.GetDevice("cmp_1", id).state, v1::CAMPAIGN_DEVICE_NOTIFIED) << id;
  }
  auto events = *store_.Events("cmp_1", 1, 100, nullptr);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED);
  EXPECT_EQ(events[0].wave(), 1u);
  ASSERT_TRUE(AnnounceAt(kNow + absl::Minutes(1)).ok());  // Nothing is due any more.
  EXPECT_TRUE(requests_.empty());
}

TEST_F(WaveAnnouncerTest, BatchesAnnouncementsAndClampsTheTtl) {
  campaign_.mutable_spec()->set_ttl_seconds(3600 + 600);
  Create();
  AddPending({"a", "b", "c", "d", "e"});
  ASSERT_TRUE(AnnounceAt(kNow, /*batch=*/2).ok());
  ASSERT_EQ(requests_.size(), 3u);
  for (const auto& r : requests_) {
    EXPECT_LE(r.targets_size(), 2);
    EXPECT_EQ(r.ttl_seconds(), 600);  // What remains of the campaign's TTL.
  }
  EXPECT_EQ(Announced().size(), 5u);
}

// Moved from campaign_engine_test.
TEST_F(WaveAnnouncerTest, QuietHoursFollowTheDeviceTimeZone) {
  campaign_.mutable_spec()->mutable_quiet_hours()->set_start_minute(22 * 60);
  campaign_.mutable_spec()->mutable_quiet_hours()->set_end_minute(7 * 60);
  campaign_.mutable_spec()->mutable_quiet_hours()->set_default_time_zone("Europe/Paris");
  Create();
  v1::DeviceAttributes tokyo;
  tokyo.set_time_zone("Asia/Tokyo");
  ASSERT_TRUE(store_.PutAttributes("tokyo", tokyo, kNow).ok());
  AddPending({"tokyo", "paris"});
  ASSERT_TRUE(AnnounceAt(kNow).ok());
  EXPECT_THAT(Announced(), ElementsAre("paris"));
  FakeCampaignStore::Device deferred = store_.GetDevice("cmp_1", "tokyo");
  EXPECT_EQ(deferred.state, v1::CAMPAIGN_DEVICE_PENDING);
  EXPECT_EQ(deferred.notify_at, kNow + absl::Hours(9));  // 07:00 in Tokyo.
  ASSERT_TRUE(AnnounceAt(kNow + absl::Hours(8)).ok());   // 06:00 in Tokyo: still quiet.
  EXPECT_TRUE(Announced().empty());
  ASSERT_TRUE(AnnounceAt(kNow + absl::Hours(9)).ok());
  EXPECT_THAT(Announced(), ElementsAre("tokyo"));
}

// Moved from campaign_engine_test: the devices stay PENDING, and the next
// attempt repeats the idempotency key.
TEST_F(WaveAnnouncerTest, AFailedAnnouncementIsTriedAgain) {
  Create();
  AddPending({"x"});
  std::string key;
  EXPECT_CALL(announcer_, Announce(_))
      .WillOnce([&](const v1::AnnounceRequest& r) -> absl::StatusOr<v1::AnnounceResponse> {
        key = r.idempotency_key();
        return absl::UnavailableError("notifier down");
      })
      .WillOnce([&](const v1::AnnounceRequest& r) {
        EXPECT_EQ(r.idempotency_key(), key);
        return v1::AnnounceResponse();
      });
  ASSERT_TRUE(AnnounceAt(kNow).ok());
  EXPECT_EQ(store_.GetDevice("cmp_1", "x").state, v1::CAMPAIGN_DEVICE_PENDING);
  EXPECT_TRUE(store_.Events("cmp_1", 1, 100, nullptr)->empty());
  ASSERT_TRUE(AnnounceAt(kNow).ok());
  EXPECT_EQ(store_.GetDevice("cmp_1", "x").state, v1::CAMPAIGN_DEVICE_NOTIFIED);
}

}  // namespace
}  // namespace updraft::catalog
