#include "services/catalog/campaign_engine.h"

#include "absl/strings/match.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/catalog/campaign_fake_store.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/fake_group_store.h"

namespace updraft::catalog {
namespace {

class FakeAnnouncer : public Announcer {
 public:
  absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request) override {
    if (!fail.ok()) return fail;
    requests.push_back(request);
    for (const auto& t : request.targets()) announced.push_back(t.device_id());
    return v1::AnnounceResponse();
  }
  std::vector<std::string> TakeAnnounced() { return std::exchange(announced, {}); }
  absl::Status fail;
  std::vector<v1::AnnounceRequest> requests;
  std::vector<std::string> announced;
};

std::vector<std::string> Devices(int n, const std::string& prefix = "dev-") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(1000 + i));
  return out;
}

class CampaignEngineTest : public ::testing::Test {
 protected:
  // 2026-11-22 12:00 UTC.
  CampaignEngineTest() : clock_(absl::FromUnixSeconds(1795348800)) {}

  void SetUp() override {
    v1::Package p;
    p.set_package_id("pkg_1");
    p.set_name("demo-app");
    p.set_author("Acme");
    ASSERT_TRUE(catalog_.CreatePackage(p, clock_.Now()).ok());
    for (const char* id : {"rel_1", "rel_draft"}) {
      v1::Release r;
      r.set_release_id(id);
      r.set_package_id("pkg_1");
      r.set_version(std::string(id) == "rel_1" ? "2.0.0" : "3.0.0");
      r.set_state(v1::DRAFT);
      ASSERT_TRUE(catalog_.CreateRelease(r, clock_.Now()).ok());
      store_.AddRelease(id);
    }
    ASSERT_TRUE(catalog_.PublishRelease("rel_1", nullptr, clock_.Now()).ok());
    engine_ = MakeEngine(&announcer_);
  }

  std::unique_ptr<CampaignEngine> MakeEngine(Announcer* announcer) {
    auto e = CampaignEngine::Create(
        {.store = &store_,
         .catalog = &catalog_,
         .groups = &groups_,
         .announcer = announcer,
         .clock = &clock_,
         .random =
             [this] { return seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL; },
         .announce_batch = 7});
    EXPECT_TRUE(e.ok()) << e.status();
    return *std::move(e);
  }

  v1::CampaignSpec Spec(const std::vector<std::string>& devices, std::vector<int> percents) {
    v1::CampaignSpec s;
    s.set_name("rollout");
    s.set_release_id("rel_1");
    for (const auto& d : devices) s.mutable_targets()->add_device_ids(d);
    for (int p : percents) s.add_waves()->set_percent(p);
    s.set_success_threshold(0.8);
    s.set_error_threshold(0.2);
    return s;
  }

  v1::Campaign Create(const v1::CampaignSpec& spec) {
    v1::CreateCampaignRequest r;
    *r.mutable_spec() = spec;
    auto c = engine_->CreateCampaign(r, "key_ops");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Campaign();
  }

  v1::Campaign Get(const std::string& id) {
    auto c = engine_->GetCampaign(id);
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }

  void Tick() { ASSERT_TRUE(engine_->Tick().ok()); }

  void ReportAll(const std::vector<std::string>& ids, v1::ResultCode code) {
    for (const auto& id : ids) engine_->outcomes().OnReport(id, "rel_1", code);
  }

  v1::CampaignActionRequest Action(const std::string& id) {
    v1::CampaignActionRequest r;
    r.set_campaign_id(id);
    return r;
  }

  std::vector<v1::CampaignEventType> EventTypes(const std::string& id) {
    std::vector<v1::CampaignEventType> out;
    auto events = engine_->Events(id, 0, 10000);  // outlives the loop
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return out;
    for (const auto& e : *events) out.push_back(e.type());
    return out;
  }

  FakeClock clock_;
  uint64_t seed_ = 42;
  FakeCatalogStore catalog_;
  FakeCampaignStore store_;
  FakeGroupStore groups_;
  FakeAnnouncer announcer_;
  std::unique_ptr<CampaignEngine> engine_;
};

TEST_F(CampaignEngineTest, CreateValidatesSpecAndRelease) {
  v1::CreateCampaignRequest r;
  *r.mutable_spec() = Spec(Devices(3), {50, 50});
  r.mutable_spec()->set_release_id("rel_draft");
  auto draft = engine_->CreateCampaign(r, "k");
  EXPECT_EQ(draft.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(draft.status().message(), "PUBLISHED")) << draft.status();
  r.mutable_spec()->set_release_id("rel_missing");
  EXPECT_EQ(engine_->CreateCampaign(r, "k").status().code(), absl::StatusCode::kNotFound);
  r.mutable_spec()->set_release_id("rel_1");
  r.mutable_spec()->set_error_threshold(1.5);
  auto bad = engine_->CreateCampaign(r, "k");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "spec.error_threshold"));
  EXPECT_EQ(engine_->GetCampaign("no such id!").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->GetCampaign("cmp_x").status().code(), absl::StatusCode::kNotFound);
}

// A FakeCampaignStore whose transactions fail at commit while `crash` is
// set and the announcer was called in them: a replica killed after the
// notifier accepted an announcement, before its transaction committed.
class CrashingStore : public FakeCampaignStore {
 public:
  explicit CrashingStore(FakeAnnouncer* announcer) : announcer_(announcer) {}
  absl::StatusOr<bool> WithCampaign(const std::string& campaign_id, bool wait,
                                    const std::function<absl::Status(CampaignTxn&)>& fn) override {
    return FakeCampaignStore::WithCampaign(campaign_id, wait, [&](CampaignTxn& txn) {
      const size_t before = announcer_->requests.size();
      absl::Status s = fn(txn);
      if (s.ok() && crash && announcer_->requests.size() > before) {
        return absl::UnavailableError("killed before commit");
      }
      return s;
    });
  }
  bool crash = false;

 private:
  FakeAnnouncer* announcer_;
};

// Killed while announcing wave 2: the devices told of it report, and the
// next step (another replica) must not start wave 2 again with other
// devices, which would announce more devices than the wave holds.
TEST_F(CampaignEngineTest, KilledWhileAnnouncingAWaveKeepsTheWaveItsDevices) {
  CrashingStore store(&announcer_);
  store.AddRelease("rel_1");
  auto engine = CampaignEngine::Create({.store = &store,
                                        .catalog = &catalog_,
                                        .announcer = &announcer_,
                                        .clock = &clock_,
                                        .random = [this] { return seed_ = seed_ * 31 + 7; }});
  ASSERT_TRUE(engine.ok()) << engine.status();
  v1::CreateCampaignRequest r;
  *r.mutable_spec() = Spec(Devices(10), {20, 30, 50});
  r.mutable_spec()->set_success_threshold(1.0);
  auto c = (*engine)->CreateCampaign(r, "k");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*engine)->Tick().ok());
  for (const auto& id : announcer_.TakeAnnounced())
    (*engine)->outcomes().OnReport(id, "rel_1", v1::SUCCESS);
  store.crash = true;
  EXPECT_FALSE((*engine)->Tick().ok());
  std::vector<std::string> told = announcer_.TakeAnnounced();
  ASSERT_EQ(told.size(), 3u);
  for (const auto& id : told) (*engine)->outcomes().OnReport(id, "rel_1", v1::SUCCESS);
  store.crash = false;
  ASSERT_TRUE((*engine)->Tick().ok());
  auto got = (*engine)->GetCampaign(c->campaign_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->installed_outside_waves(), 0);
  EXPECT_EQ(got->waves(1).devices(), 3);
  EXPECT_EQ(got->waves(1).installed(), 3);
  for (const auto& id : told) {
    EXPECT_EQ(store.GetDevice(c->campaign_id(), id).wave, 2) << id;
  }
  // The wave installed: wave 3 takes the other 5, announced once each.
  EXPECT_EQ(got->current_wave(), 3u);
  EXPECT_EQ(announcer_.TakeAnnounced().size(), 5u);
}

// Killed after the notifier accepted wave 1's announcement: the re-run step
// announces the same devices with the same idempotency key, so the notifier
// gives none of them a second notification (services/notifier).
TEST_F(CampaignEngineTest, AStepRerunAfterAKillRepeatsTheIdempotencyKey) {
  CrashingStore store(&announcer_);
  store.AddRelease("rel_1");
  auto engine = CampaignEngine::Create({.store = &store,
                                        .catalog = &catalog_,
                                        .announcer = &announcer_,
                                        .clock = &clock_,
                                        .random = [this] { return seed_ = seed_ * 31 + 7; }});
  ASSERT_TRUE(engine.ok()) << engine.status();
  v1::CreateCampaignRequest r;
  *r.mutable_spec() = Spec(Devices(4), {50, 50});
  auto c = (*engine)->CreateCampaign(r, "k");
  ASSERT_TRUE(c.ok()) << c.status();
  store.crash = true;
  EXPECT_FALSE((*engine)->Tick().ok());
  ASSERT_EQ(announcer_.requests.size(), 1u);
  const v1::AnnounceRequest killed = announcer_.requests[0];
  EXPECT_EQ(killed.idempotency_key(), "campaign/" + c->campaign_id() + "/wave/1/attempt/0");
  EXPECT_EQ(killed.idempotency_key(), CampaignAnnouncementKey(c->campaign_id(), 1, 0));
  EXPECT_EQ(killed.targets_size(), 2);
  store.crash = false;
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE((*engine)->Tick().ok());
  ASSERT_EQ(announcer_.requests.size(), 2u);
  const v1::AnnounceRequest& rerun = announcer_.requests[1];
  EXPECT_EQ(rerun.idempotency_key(), killed.idempotency_key());
  ASSERT_EQ(rerun.targets_size(), killed.targets_size());
  for (int i = 0; i < rerun.targets_size(); ++i) {
    EXPECT_EQ(rerun.targets(i).device_id(), killed.targets(i).device_id());
  }
  EXPECT_EQ(store.GetDevice(c->campaign_id(), rerun.targets(0).device_id()).state,
            v1::CAMPAIGN_DEVICE_NOTIFIED);
  // Wave 2 is another announcement: another key.
  for (const auto& t : rerun.targets())
    (*engine)->outcomes().OnReport(t.device_id(), "rel_1", v1::SUCCESS);
  ASSERT_TRUE((*engine)->Tick().ok());
  ASSERT_EQ(announcer_.requests.size(), 3u);
  EXPECT_EQ(announcer_.requests[2].idempotency_key(),
            CampaignAnnouncementKey(c->campaign_id(), 2, 0));
}

// A device re-sends a report the catalog recorded but did not acknowledge
// (killed): CatalogService passes the duplicate on, and it changes nothing.
TEST_F(CampaignEngineTest, RepeatedReportsChangeNothing) {
  v1::Campaign c = Create(Spec(Devices(5), {40, 60}));
  Tick();
  std::vector<std::string> wave1 = announcer_.TakeAnnounced();
  ASSERT_EQ(wave1.size(), 2u);
  engine_->outcomes().OnReport(wave1[0], "rel_1", v1::SUCCESS);
  engine_->outcomes().OnReport(wave1[1], "rel_1", v1::INSTALL_FAILED);
  const std::vector<v1::CampaignEventType> before = EventTypes(c.campaign_id());
  engine_->outcomes().OnReport(wave1[0], "rel_1", v1::SUCCESS);
  engine_->outcomes().OnReport(wave1[1], "rel_1", v1::INSTALL_FAILED);
  EXPECT_EQ(EventTypes(c.campaign_id()), before);
  v1::Campaign got = Get(c.campaign_id());
  EXPECT_EQ(got.waves(0).installed(), 1);
  EXPECT_EQ(got.waves(0).failed(), 1);
}

TEST_F(CampaignEngineTest, WavesAdvanceWhenEnoughInstalledAndComplete) {
  v1::CampaignSpec spec = Spec(Devices(10), {20, 30, 50});
  spec.add_channels(v1::CHANNEL_SMS);
  v1::Campaign c = Create(spec);
  EXPECT_EQ(c.state(), v1::CAMPAIGN_RUNNING);
  EXPECT_EQ(c.software_name(), "demo-app 2.0.0");
  Tick();
  std::vector<std::string> wave1 = announcer_.TakeAnnounced();
  ASSERT_EQ(wave1.size(), 2u);
  ASSERT_FALSE(announcer_.requests.empty());
  EXPECT_EQ(announcer_.requests[0].location(), "rel_1");
  EXPECT_EQ(announcer_.requests[0].targets(0).channels(0), v1::CHANNEL_SMS);
  v1::Campaign got = Get(c.campaign_id());
  EXPECT_EQ(got.current_wave(), 1u);
  EXPECT_EQ(got.waves(0).notified(), 2);
  EXPECT_EQ(got.queued_devices(), 8);

  Tick();  // Nothing installed yet: the wave holds.
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  ReportAll(wave1, v1::SUCCESS);
  Tick();
  std::vector<std::string> wave2 = announcer_.TakeAnnounced();
  EXPECT_EQ(wave2.size(), 3u);
  ReportAll(wave2, v1::SUCCESS);
  Tick();
  std::vector<std::string> wave3 = announcer_.TakeAnnounced();
  EXPECT_EQ(wave3.size(), 5u);  // The last wave takes the rest.
  ReportAll(wave3, v1::SUCCESS);
  Tick();
  got = Get(c.campaign_id());
  EXPECT_EQ(got.state(), v1::CAMPAIGN_COMPLETED);
  EXPECT_EQ(got.waves(2).installed(), 5);
  std::vector<v1::CampaignEventType> types = EventTypes(c.campaign_id());
  EXPECT_EQ(types.front(), v1::CAMPAIGN_EVENT_CREATED);
  EXPECT_EQ(types.back(), v1::CAMPAIGN_EVENT_COMPLETED);
  EXPECT_EQ(std::count(types.begin(), types.end(), v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED), 10);
  EXPECT_EQ(std::count(types.begin(), types.end(), v1::CAMPAIGN_EVENT_DEVICE_INSTALLED), 10);
}

TEST_F(CampaignEngineTest, ErrorThresholdPausesAndResumeRetriesFailedDevices) {
  v1::Campaign c = Create(Spec(Devices(10), {50, 50}));
  Tick();
  std::vector<std::string> wave1 = announcer_.TakeAnnounced();
  ASSERT_EQ(wave1.size(), 5u);
  engine_->outcomes().OnReport(wave1[0], "rel_1", v1::INSTALL_FAILED);
  ReportAll({wave1.begin() + 1, wave1.end() - 1}, v1::SUCCESS);
  Tick();
  v1::Campaign got = Get(c.campaign_id());
  ASSERT_EQ(got.state(), v1::CAMPAIGN_PAUSED);
  EXPECT_TRUE(absl::StrContains(got.state_reason(), "1 of 5 devices failed")) << got.state_reason();
  EXPECT_EQ(store_.GetDevice(c.campaign_id(), wave1[0]).last_result, v1::INSTALL_FAILED);
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  EXPECT_EQ(engine_->Pause(Action(c.campaign_id()), "k").status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto resumed = engine_->Resume(Action(c.campaign_id()), "key_ops");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->state(), v1::CAMPAIGN_RUNNING);
  EXPECT_EQ(resumed->waves(0).pending(), 1);
  EXPECT_EQ(engine_->Resume(Action(c.campaign_id()), "k").status().code(),
            absl::StatusCode::kFailedPrecondition);
  Tick();
  EXPECT_EQ(announcer_.TakeAnnounced(), std::vector<std::string>{wave1[0]});
  EXPECT_EQ(store_.GetDevice(c.campaign_id(), wave1[0]).attempts, 1);
  EXPECT_EQ(announcer_.requests.back().idempotency_key(),
            CampaignAnnouncementKey(c.campaign_id(), 1, 1));
  ReportAll({wave1[0], wave1[4]}, v1::SUCCESS);
  Tick();
  EXPECT_EQ(announcer_.TakeAnnounced().size(), 5u);
  EXPECT_EQ(announcer_.requests.back().idempotency_key(),
            CampaignAnnouncementKey(c.campaign_id(), 2, 0));
  EXPECT_EQ(Get(c.campaign_id()).current_wave(), 2u);
}

TEST_F(CampaignEngineTest, PauseAndCancelStopAnnouncements) {
  v1::Campaign c = Create(Spec(Devices(4), {50, 50}));
  auto paused = engine_->Pause(Action(c.campaign_id()), "key_ops");
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->state_reason(), "paused by key_ops");
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  ASSERT_TRUE(engine_->Resume(Action(c.campaign_id()), "key_ops").ok());
  Tick();
  std::vector<std::string> wave1 = announcer_.TakeAnnounced();
  EXPECT_EQ(wave1.size(), 2u);
  v1::CampaignActionRequest cancel = Action(c.campaign_id());
  cancel.set_reason("bad build");
  auto cancelled = engine_->Cancel(cancel, "key_ops");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::CAMPAIGN_CANCELLED);
  EXPECT_EQ(cancelled->state_reason(), "cancelled by key_ops: bad build");
  ReportAll(wave1, v1::SUCCESS);  // Ignored: the campaign is over.
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  EXPECT_EQ(Get(c.campaign_id()).waves(0).installed(), 0);
  EXPECT_EQ(engine_->Cancel(Action(c.campaign_id()), "k").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Pause(Action("cmp_unknown"), "k").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CampaignEngineTest, JitterSpreadsAWaveAndBatchesAnnouncements) {
  v1::CampaignSpec spec = Spec(Devices(50), {100});
  spec.set_jitter_seconds(100);
  Create(spec);
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  clock_.Advance(absl::Seconds(50));
  Tick();
  size_t first = announcer_.TakeAnnounced().size();
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, 50u);
  for (const auto& r : announcer_.requests) EXPECT_LE(r.targets_size(), 7);
  clock_.Advance(absl::Seconds(50));
  Tick();
  EXPECT_EQ(first + announcer_.TakeAnnounced().size(), 50u);
}

TEST_F(CampaignEngineTest, FailedDevicesAreRetriedAfterTheDelayUpToTheLimit) {
  v1::CampaignSpec spec = Spec({"x", "y"}, {100});
  spec.set_error_threshold(1.0);
  spec.set_max_retries(1);
  spec.set_retry_delay_seconds(60);
  v1::Campaign c = Create(spec);
  Tick();
  announcer_.TakeAnnounced();
  engine_->outcomes().OnReport("x", "rel_1", v1::DOWNLOAD_FAILED);
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  clock_.Advance(absl::Seconds(60));
  Tick();
  EXPECT_EQ(announcer_.TakeAnnounced(), std::vector<std::string>{"x"});
  // The retry is a new announcement (the device must act on it): a new key.
  ASSERT_EQ(announcer_.requests.size(), 2u);
  EXPECT_EQ(announcer_.requests[0].idempotency_key(),
            CampaignAnnouncementKey(c.campaign_id(), 1, 0));
  EXPECT_EQ(announcer_.requests[1].idempotency_key(),
            CampaignAnnouncementKey(c.campaign_id(), 1, 1));
  engine_->outcomes().OnReport("x", "rel_1", v1::DOWNLOAD_FAILED);
  clock_.Advance(absl::Minutes(10));
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  EXPECT_EQ(Get(c.campaign_id()).waves(0).failed(), 1);
}

TEST_F(CampaignEngineTest, ACampaignLockedByAnotherReplicaIsSkipped) {
  v1::Campaign c = Create(Spec({"x"}, {100}));
  store_.Lock(c.campaign_id());
  Tick();
  EXPECT_TRUE(announcer_.TakeAnnounced().empty());
  store_.Unlock(c.campaign_id());
  Tick();
  EXPECT_EQ(announcer_.TakeAnnounced().size(), 1u);
}

TEST_F(CampaignEngineTest, GatedOffersReachOnlyDevicesWhoseWaveStarted) {
  v1::CampaignSpec spec = Spec({"x", "y"}, {50, 100});
  spec.set_gate_offers(true);
  Create(spec);
  Tick();  // wave 1 (one of x and y) starts
  const bool x = engine_->outcomes().MayOffer("x", "rel_1");
  const bool y = engine_->outcomes().MayOffer("y", "rel_1");
  EXPECT_NE(x, y) << "exactly one device is in the first wave";
  EXPECT_FALSE(engine_->outcomes().MayOffer("stranger", "rel_1"));     // not a target at all
  EXPECT_TRUE(engine_->outcomes().MayOffer("stranger", "rel_other"));  // no campaign gates it
  ReportAll({x ? "x" : "y"}, v1::SUCCESS);
  Tick();  // wave 1 succeeded: wave 2 starts
  EXPECT_TRUE(engine_->outcomes().MayOffer("x", "rel_1"));
  EXPECT_TRUE(engine_->outcomes().MayOffer("y", "rel_1"));
}

TEST_F(CampaignEngineTest, UngatedCampaignsRestrictNoOffer) {
  Create(Spec({"x", "y"}, {50, 100}));
  Tick();
  EXPECT_TRUE(engine_->outcomes().MayOffer("x", "rel_1"));
  EXPECT_TRUE(engine_->outcomes().MayOffer("y", "rel_1"));
  EXPECT_TRUE(engine_->outcomes().MayOffer("stranger", "rel_1"));
}

TEST_F(CampaignEngineTest, DevicesInstallingBeforeTheirWaveAreCountedNotAnnounced) {
  v1::Campaign c = Create(Spec({"early", "late"}, {100}));
  EXPECT_EQ(c.queued_devices(), 2);  // Targets are resolved at creation.
  engine_->outcomes().OnReport("early", "rel_1", v1::SUCCESS);
  Tick();
  EXPECT_EQ(announcer_.TakeAnnounced(), std::vector<std::string>{"late"});
  v1::Campaign got = Get(c.campaign_id());
  EXPECT_EQ(got.installed_outside_waves(), 1);
  EXPECT_EQ(got.waves(0).devices(), 1);
}

TEST_F(CampaignEngineTest, ExpiresAfterItsTimeToLive) {
  v1::CampaignSpec spec = Spec({"x"}, {100});
  spec.set_ttl_seconds(3600);
  v1::Campaign c = Create(spec);
  Tick();
  clock_.Advance(absl::Hours(1));
  Tick();
  EXPECT_EQ(Get(c.campaign_id()).state(), v1::CAMPAIGN_EXPIRED);
  EXPECT_EQ(announcer_.requests.at(0).ttl_seconds(), 3600);
}

TEST_F(CampaignEngineTest, WithoutAnAnnouncerNothingIsDriven) {
  auto passive = MakeEngine(nullptr);
  v1::Campaign c = Create(Spec({"x"}, {100}));
  ASSERT_TRUE(passive->Tick().ok());
  EXPECT_EQ(passive->TickCampaign(c.campaign_id()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(c.campaign_id()).current_wave(), 0u);
}

}  // namespace
}  // namespace updraft::catalog
