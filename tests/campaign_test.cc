// End-to-end campaign test over the real platform (auth, download, catalog,
// notifier on PostgreSQL and Redis): 1,000 devices in 3 waves. Devices are
// registered with auth (ImportDevices), log in for real tokens and report
// through the DeviceCatalog RPC directly (1,000 SDK handsets with their
// installers would make the test slow without testing more of campaigns).
// The campaign is driven by extra catalog replicas started here with the
// notifier address; steps are explicit (StepOnce), the clock is the
// platform's FakeClock.
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"
#include "services/catalog/campaign_test_http_server.h"
#include "services/catalog/campaign_webhooks.h"
#include "tests/e2e_fixture.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/campaign.grpc.pb.h"

namespace updraft::e2e {
namespace {

constexpr int kDevices = 1000;

std::shared_ptr<grpc::Channel> Connect(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

// Collects a WatchCampaign stream in the background.
class Watcher {
 public:
  Watcher(v1::CampaignAdmin::StubInterface& stub, const std::string& token,
          const std::string& campaign_id) {
    context_.AddMetadata("authorization", "Bearer " + token);
    v1::WatchCampaignRequest request;
    request.set_campaign_id(campaign_id);
    reader_ = stub.WatchCampaign(&context_, request);
    thread_ = std::thread([this] {
      v1::CampaignUpdate u;
      while (reader_->Read(&u)) {
        absl::MutexLock l(&mu_);
        if (u.has_event()) events_.push_back(u.event());
        if (u.has_progress()) progress_ = u.progress();
      }
      absl::MutexLock l(&mu_);
      status_ = reader_->Finish();
      done_ = true;
    });
  }
  ~Watcher() {
    context_.TryCancel();
    thread_.join();
  }
  // Waits (up to 20 s) until `pred` holds over the events received.
  bool WaitFor(const std::function<bool(const std::vector<v1::CampaignEvent>&)>& pred) {
    absl::MutexLock l(&mu_);
    auto cond = [&]() { return pred(events_) || done_; };
    mu_.AwaitWithTimeout(absl::Condition(&cond), absl::Seconds(20));
    return pred(events_);
  }
  bool WaitDone() {
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Seconds(20));
    return done_;
  }
  std::vector<v1::CampaignEvent> events() {
    absl::MutexLock l(&mu_);
    return events_;
  }
  grpc::Status status() {
    absl::MutexLock l(&mu_);
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<v1::CampaignUpdate>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::CampaignEvent> events_ ABSL_GUARDED_BY(mu_);
  v1::Campaign progress_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

int Count(const std::vector<v1::CampaignEvent>& events, v1::CampaignEventType type, int wave = 0) {
  int n = 0;
  for (const auto& e : events) n += e.type() == type && (wave == 0 || e.wave() == wave);
  return n;
}

std::vector<std::string> DevicesOf(const std::vector<v1::CampaignEvent>& events,
                                   v1::CampaignEventType type, int wave) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.type() == type && static_cast<int>(e.wave()) == wave) out.push_back(e.device_id());
  }
  return out;
}

class CampaignTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    ASSERT_NE(platform_, nullptr);
    dir_ = device::testutil::NewTempDir("campaign");
    logger_ =
        std::make_unique<Logger>("replica", &platform_->clock(), stderr, Logger::Level::kError);
    publisher_key_file_ = CreateKey("catalog-campaigns", "publisher", &publisher_);
    CreateKey("watcher", "viewer", &viewer_);
    DemoArtifact artifact;
    ASSERT_NO_FATAL_FAILURE(PublishDemo("2.0.0", &artifact, &release_));
  }

  // Creates an API key, writes it to a file (returned), logs in with it.
  std::string CreateKey(const std::string& name, const std::string& role,
                        std::unique_ptr<OperatorTokenSource>* source) {
    std::string path = absl::StrCat(dir_, "/", name, ".key");
    auto key = platform_->CreateApiKeyFile(name, role, path);
    EXPECT_TRUE(key.ok()) << key.status();
    *source = std::make_unique<OperatorTokenSource>(
        v1::Auth::NewStub(
            grpc::CreateChannel(platform_->auth_address(), grpc::InsecureChannelCredentials())),
        key.value_or(""), &platform_->clock());
    return path;
  }

  // A catalog replica that drives campaigns (steps only when told).
  std::unique_ptr<catalog::CatalogServer> StartReplica() {
    catalog::CatalogServer::Options o;
    o.pg_uri = platform_->env().pg_uri();
    o.download_address = platform_->download_address();
    o.auth_address = platform_->auth_address();
    o.redis = platform_->env().redis_options();
    o.redis_key_prefix = platform_->env().redis_prefix();
    o.api_key_file = publisher_key_file_;
    o.notifier_address = platform_->notifier_address();
    o.campaign_tick_interval = absl::ZeroDuration();
    o.campaign_watch_poll_interval = absl::Milliseconds(20);
    o.allow_plain_http_webhooks = true;
    o.clock = &platform_->clock();
    o.logger = logger_.get();
    auto s = catalog::CatalogServer::Create(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  void Connect(catalog::CatalogServer& replica) {
    auto channel = e2e::Connect(replica.port());
    campaigns_ = v1::CampaignAdmin::NewStub(channel);
    devices_ = v1::DeviceCatalog::NewStub(channel);
  }

  // Registers `n` devices with auth in one import and logs each in, 200 a
  // (fake) minute.
  void RegisterDevices(int n, const std::string& prefix) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(absl::StrCat(prefix, 10000 + i));
    auto tokens = platform_->ImportAndLogIn(ids, 200, absl::Seconds(61));
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    for (int i = 0; i < n; ++i) {
      tokens_[ids[i]] = (*tokens)[i];
      ids_.push_back(ids[i]);
    }
  }

  grpc::Status Call(const std::string& token,
                    const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    return fn(&ctx);
  }

  // The device checks (offered the release: downloading) and reports.
  void DeviceReports(const std::vector<std::string>& ids, v1::ResultCode result) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < ids.size(); i += 4) {
          const std::string& token = tokens_.at(ids[i]);
          v1::CheckForUpdatesRequest check;
          check.mutable_attributes()->set_model("Pixel");
          v1::CheckForUpdatesResponse offers;
          grpc::Status s = Call(token, [&](grpc::ClientContext* c) {
            return devices_->CheckForUpdates(c, check, &offers);
          });
          if (!s.ok() || offers.offers_size() != 1) ++failures;
          v1::ReportResultRequest report;
          report.set_report_id(absl::StrCat("r-", ids[i], "-", report_counter_++));
          report.set_release_id(release_.release_id());
          report.set_result(result);
          v1::ReportResultResponse r;
          s = Call(token,
                   [&](grpc::ClientContext* c) { return devices_->ReportResult(c, report, &r); });
          if (!s.ok()) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
  }

  absl::StatusOr<v1::Campaign> Get(const std::string& id) {
    v1::GetCampaignRequest req;
    req.set_campaign_id(id);
    v1::Campaign c;
    grpc::Status s = Call(ViewerToken(), [&](grpc::ClientContext* ctx) {
      return campaigns_->GetCampaign(ctx, req, &c);
    });
    if (!s.ok()) return absl::UnknownError(s.error_message());
    return c;
  }

  grpc::Status Act(const std::string& what, const std::string& id, v1::Campaign* out,
                   const std::string& token = "") {
    v1::CampaignActionRequest req;
    req.set_campaign_id(id);
    return Call(token.empty() ? PublisherToken() : token, [&](grpc::ClientContext* ctx) {
      if (what == "pause") return campaigns_->PauseCampaign(ctx, req, out);
      if (what == "resume") return campaigns_->ResumeCampaign(ctx, req, out);
      return campaigns_->CancelCampaign(ctx, req, out);
    });
  }

  v1::Campaign Create(const v1::CampaignSpec& spec, const std::string& token = "") {
    v1::CreateCampaignRequest req;
    *req.mutable_spec() = spec;
    v1::Campaign c;
    grpc::Status s = Call(token.empty() ? PublisherToken() : token, [&](grpc::ClientContext* ctx) {
      return campaigns_->CreateCampaign(ctx, req, &c);
    });
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  }

  std::string dir_;
  std::unique_ptr<Logger> logger_;
  std::string publisher_key_file_;
  std::unique_ptr<OperatorTokenSource> publisher_, viewer_;
  std::string PublisherToken() { return *publisher_->Token(); }
  std::string ViewerToken() { return *viewer_->Token(); }
  v1::Release release_;
  std::unique_ptr<v1::CampaignAdmin::Stub> campaigns_;
  std::unique_ptr<v1::DeviceCatalog::Stub> devices_;
  std::map<std::string, std::string> tokens_;
  std::vector<std::string> ids_;
  std::atomic<int> report_counter_{0};
};

TEST_F(CampaignTest, ThousandDevicesThreeWavesPauseRestartResumeCancel) {
  ASSERT_NO_FATAL_FAILURE(RegisterDevices(kDevices, "phone-"));
  std::unique_ptr<catalog::CatalogServer> replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  Connect(*replica);

  v1::CampaignSpec spec;
  spec.set_name("demo-app 2.0 rollout");
  spec.set_release_id(release_.release_id());
  for (const auto& id : ids_) spec.mutable_targets()->add_device_ids(id);
  spec.add_waves()->set_percent(10);
  spec.add_waves()->set_percent(30);
  spec.add_waves()->set_percent(60);
  spec.set_success_threshold(0.9);
  spec.set_error_threshold(0.15);
  spec.add_channels(v1::CHANNEL_IP_PUSH);
  // A viewer may watch but not steer.
  {
    v1::CreateCampaignRequest req;
    *req.mutable_spec() = spec;
    v1::Campaign c;
    grpc::Status s = Call(ViewerToken(), [&](grpc::ClientContext* ctx) {
      return campaigns_->CreateCampaign(ctx, req, &c);
    });
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  v1::Campaign campaign = Create(spec);
  ASSERT_FALSE(campaign.campaign_id().empty());
  const std::string id = campaign.campaign_id();
  auto watcher = std::make_unique<Watcher>(*campaigns_, ViewerToken(), id);

  // Wave 1: 100 devices announced through the notifier.
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  ASSERT_TRUE(watcher->WaitFor(
      [](const auto& ev) { return Count(ev, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 1) == 100; }));
  auto c = Get(id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->waves(0).notified(), 100);
  EXPECT_EQ(c->queued_devices(), 900);
  std::vector<std::string> wave1 =
      DevicesOf(watcher->events(), v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 1);
  DeviceReports(wave1, v1::SUCCESS);
  ASSERT_TRUE(watcher->WaitFor(
      [](const auto& ev) { return Count(ev, v1::CAMPAIGN_EVENT_DEVICE_INSTALLED, 1) == 100; }));
  EXPECT_EQ(Count(watcher->events(), v1::CAMPAIGN_EVENT_DEVICE_DOWNLOADING, 1), 100);

  // Wave 2: 300 devices; 20% of them fail: the campaign pauses.
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  ASSERT_TRUE(watcher->WaitFor(
      [](const auto& ev) { return Count(ev, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 2) == 300; }));
  std::vector<std::string> wave2 =
      DevicesOf(watcher->events(), v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 2);
  std::vector<std::string> failing(wave2.begin(), wave2.begin() + 60);
  DeviceReports(failing, v1::INSTALL_FAILED);
  DeviceReports({wave2.begin() + 60, wave2.end()}, v1::SUCCESS);
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  c = Get(id);
  ASSERT_EQ(c->state(), v1::CAMPAIGN_PAUSED);
  EXPECT_TRUE(absl::StrContains(c->state_reason(), "wave 2: 60 of 300 devices failed"))
      << c->state_reason();
  EXPECT_EQ(c->waves(1).failed(), 60);
  EXPECT_EQ(c->waves(1).installed(), 240);
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());  // Paused: nothing happens.
  EXPECT_EQ(Get(id)->queued_devices(), 600);
  watcher.reset();

  // The catalog restarts: everything is in PostgreSQL.
  replica->Shutdown(absl::ZeroDuration());
  replica.reset();
  replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  Connect(*replica);
  c = Get(id);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state(), v1::CAMPAIGN_PAUSED);
  EXPECT_EQ(c->waves(1).failed(), 60);
  EXPECT_EQ(c->waves(0).installed(), 100);
  watcher = std::make_unique<Watcher>(*campaigns_, ViewerToken(), id);
  ASSERT_TRUE(watcher->WaitFor([](const auto& ev) {
    return Count(ev, v1::CAMPAIGN_EVENT_PAUSED) == 1;  // The whole history again.
  }));

  // Resume after a fix: the 60 failed devices are announced again and now
  // install; wave 3 starts, driven by two replicas at once.
  v1::Campaign resumed;
  ASSERT_TRUE(Act("resume", id, &resumed).ok());
  EXPECT_EQ(resumed.state(), v1::CAMPAIGN_RUNNING);
  EXPECT_EQ(resumed.waves(1).pending(), 60);
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  ASSERT_TRUE(watcher->WaitFor(
      [](const auto& ev) { return Count(ev, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 2) == 360; }));
  DeviceReports(failing, v1::SUCCESS);
  std::unique_ptr<catalog::CatalogServer> second = StartReplica();
  ASSERT_NE(second, nullptr);
  std::thread other([&] { EXPECT_TRUE(second->campaigns().StepOnce().ok()); });
  EXPECT_TRUE(replica->campaigns().StepOnce().ok());
  other.join();
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  ASSERT_TRUE(watcher->WaitFor(
      [](const auto& ev) { return Count(ev, v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED, 3) >= 600; }));
  std::map<std::string, int> notified;
  for (const auto& e : watcher->events()) {
    if (e.type() == v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED && e.wave() == 3) notified[e.device_id()]++;
  }
  EXPECT_EQ(notified.size(), 600u);
  for (const auto& [device, n] : notified) EXPECT_EQ(n, 1) << device << " announced twice";
  c = Get(id);
  EXPECT_EQ(c->current_wave(), 3u);
  EXPECT_EQ(c->waves(2).notified(), 600);

  // Cancel: nothing more is announced; the watch stream ends.
  v1::Campaign cancelled;
  ASSERT_TRUE(Act("cancel", id, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::CAMPAIGN_CANCELLED);
  EXPECT_EQ(Act("resume", id, &cancelled).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Act("pause", id, &cancelled, ViewerToken()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(watcher->WaitDone());
  EXPECT_TRUE(watcher->status().ok()) << watcher->status().error_message();
  EXPECT_EQ(Count(watcher->events(), v1::CAMPAIGN_EVENT_CANCELLED), 1);
  DeviceReports({notified.begin()->first}, v1::SUCCESS);
  EXPECT_EQ(Get(id)->waves(2).installed(), 0);
}

TEST_F(CampaignTest, QuietHoursHoldAnnouncementsUntilTheyEnd) {
  ASSERT_NO_FATAL_FAILURE(RegisterDevices(5, "quiet-"));
  std::unique_ptr<catalog::CatalogServer> replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  Connect(*replica);
  absl::CivilMinute local = absl::ToCivilMinute(platform_->clock().Now(), absl::UTCTimeZone());
  const int now_minute = local.hour() * 60 + local.minute();
  v1::CampaignSpec spec;
  spec.set_name("quiet");
  spec.set_release_id(release_.release_id());
  for (const auto& id : ids_) spec.mutable_targets()->add_device_ids(id);
  spec.add_waves()->set_percent(100);
  spec.set_success_threshold(1);
  spec.set_error_threshold(1);
  // Quiet for the next 30 minutes (UTC, the campaign's default zone).
  spec.mutable_quiet_hours()->set_start_minute(now_minute);
  spec.mutable_quiet_hours()->set_end_minute((now_minute + 30) % 1440);
  spec.mutable_quiet_hours()->set_default_time_zone("UTC");
  v1::Campaign campaign = Create(spec);
  // A webhook for this campaign (admin), on a local plain-HTTP server.
  catalog::LocalHttpServer hooks;
  hooks.QueueStatus(500);  // The first delivery fails and is retried.
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
    v1::CreateWebhookRequest req;
    req.set_url(hooks.url());
    req.set_secret("0123456789abcdef-secret");
    req.set_campaign_id(campaign.campaign_id());
    v1::Webhook w;
    grpc::Status s = campaigns_->CreateWebhook(&ctx, req, &w);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  auto c = Get(campaign.campaign_id());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->waves(0).pending(), 5);
  EXPECT_EQ(c->waves(0).notified(), 0);
  platform_->clock().Advance(absl::Minutes(29));
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  EXPECT_EQ(Get(campaign.campaign_id())->waves(0).notified(), 0);
  platform_->clock().Advance(absl::Minutes(1));
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  EXPECT_EQ(Get(campaign.campaign_id())->waves(0).notified(), 5);
  // The wave start and five NOTIFIED events, signed; the first POST
  // (answered 500) was retried after its backoff.
  platform_->clock().Advance(absl::Minutes(5));
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  std::vector<catalog::LocalHttpServer::Request> got = hooks.requests();
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0].headers["x-updraft-event-id"], got[1].headers["x-updraft-event-id"]);
  std::set<std::string> notified;
  for (size_t i = 1; i < got.size(); ++i) {
    int64_t ts = 0;
    ASSERT_TRUE(absl::SimpleAtoi(got[i].headers["x-updraft-timestamp"], &ts));
    EXPECT_EQ(got[i].headers["x-updraft-signature"],
              catalog::SignWebhook("0123456789abcdef-secret", ts, got[i].body));
    if (absl::StrContains(got[i].body, "CAMPAIGN_EVENT_DEVICE_NOTIFIED")) {
      notified.insert(got[i].headers["x-updraft-event-id"]);
    }
  }
  EXPECT_EQ(notified.size(), 5u);
}

TEST_F(CampaignTest, GatedOffersFollowTheWaves) {
  ASSERT_NO_FATAL_FAILURE(RegisterDevices(4, "gated-"));
  std::unique_ptr<catalog::CatalogServer> replica = StartReplica();
  ASSERT_NE(replica, nullptr);
  Connect(*replica);
  // How many of `ids` are offered the release when they check on their own.
  auto offered = [&](const std::vector<std::string>& ids) {
    int n = 0;
    for (const std::string& id : ids) {
      v1::CheckForUpdatesRequest check;
      v1::CheckForUpdatesResponse response;
      grpc::Status s = Call(tokens_.at(id), [&](grpc::ClientContext* c) {
        return devices_->CheckForUpdates(c, check, &response);
      });
      EXPECT_TRUE(s.ok()) << s.error_message();
      n += response.offers_size();
    }
    return n;
  };
  const std::vector<std::string> targets(ids_.begin(), ids_.begin() + 3);
  const std::string outsider = ids_[3];
  EXPECT_EQ(offered(ids_), 4);  // published, no campaign yet: everyone
  v1::CampaignSpec spec;
  spec.set_name("staged");
  spec.set_release_id(release_.release_id());
  for (const auto& id : targets) spec.mutable_targets()->add_device_ids(id);
  spec.add_waves()->set_count(1);
  spec.add_waves()->set_percent(100);
  spec.set_success_threshold(1);
  spec.set_error_threshold(1);
  spec.set_gate_offers(true);
  v1::Campaign campaign = Create(spec);
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());  // wave 1: one device
  EXPECT_EQ(offered(targets), 1);
  EXPECT_EQ(offered({outsider}), 0);
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());
  auto c = Get(campaign.campaign_id());
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->waves_size(), 2);
  v1::Campaign cancelled;
  ASSERT_TRUE(Act("cancel", campaign.campaign_id(), &cancelled).ok());
  ASSERT_TRUE(replica->campaigns().StepOnce().ok());  // the gate learns of the end
  EXPECT_EQ(offered(ids_), 4);
}

}  // namespace
}  // namespace updraft::e2e
