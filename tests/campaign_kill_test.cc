// Fault injection against a real catalog process driving a campaign (issue
// 10): the catalog binary runs as a child process on the platform's
// PostgreSQL and Redis, with real auth and the real notifier (in-process)
// behind --notifier_address, and steps a 3-wave campaign (60, 120, 120
// devices, success threshold 100 %) over 300 devices. Each device holds its
// IP Push stream to the notifier; when an announcement arrives it
// acknowledges it, checks and reports SUCCESS to the catalog process
// (re-sending the same report ID until acknowledged, as the SDK does). The
// catalog is killed with SIGKILL once wave-2 devices have their announcement
// and 10 of them have sent their report, and a second catalog process takes
// over on the same stores.
//
// What the engine promises (services/catalog/campaign_engine.cc,
// TickCampaign): a step's decisions (start a wave) commit first; the
// announcement of the wave's PENDING devices is a second transaction with
// the Announce RPC inside it, marking them NOTIFIED at its commit. A kill
// after the notifier accepted the announcement but before that commit
// leaves them PENDING: the next process announces those still PENDING
// again, never other devices in their place, with the same idempotency key
// (campaign, wave, attempt), so the notifier creates no second notification
// for them. What must hold afterwards, each checked:
// - every target device received an announcement, and only one
//   notification ID: a device announced again after the kill holds the
//   notification ID it received before the kill (it could drop a repeat);
// - each wave's devices share one notification (one Announce call each),
//   and the notifier's outbox holds exactly one row per device with the
//   campaign's key for its wave, of the notification the device received;
// - at most one NOTIFIED event per device;
// - PostgreSQL is consistent: the campaign COMPLETED through all 3 waves,
//   the waves kept their sizes (60, 120, 120; none installed outside a
//   wave), every device is INSTALLED, 3 WAVE_STARTED events, one INSTALLED
//   event per device;
// - every device has exactly one result report (none lost, none doubled),
//   also the reports the killed process recorded without answering.
// Waiting on another process needs polling; every wait is bounded.
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/pg_pool.h"
#include "common/status_util.h"
#include "gtest/gtest.h"
#include "tests/e2e_fixture.h"
#include "tests/service_process.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/campaign.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::e2e {
namespace {

constexpr int kDevices = 300;
constexpr int kWave1 = 60;  // 20 %
constexpr absl::Duration kWaitLimit = absl::Seconds(40);
constexpr absl::Duration kRpcDeadline = absl::Seconds(5);

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kRpcDeadline));
}

// A device: holds its IP Push stream to the notifier; on each announcement
// acknowledges it and, until one report was acknowledged, checks with the
// catalog that `catalog()` names and reports SUCCESS (same report ID on
// every attempt).
class Handset {
 public:
  Handset(std::string id, std::string token, const std::string& notifier,
          std::function<std::string()> catalog, const v1::Release& release)
      : id_(std::move(id)),
        token_(std::move(token)),
        catalog_(std::move(catalog)),
        release_(release) {
    notifier_ =
        v1::Notifier::NewStub(grpc::CreateChannel(notifier, grpc::InsecureChannelCredentials()));
    thread_ = std::thread([this] { Run(); });
  }
  ~Handset() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      if (ctx_ != nullptr) ctx_->TryCancel();
    }
    thread_.join();
  }
  const std::string& id() const { return id_; }
  std::vector<std::string> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  bool subscribed() {
    absl::MutexLock lock(&mu_);
    return subscribed_;
  }
  bool reported() {
    absl::MutexLock lock(&mu_);
    return reported_;
  }
  // Report attempts the catalog did not acknowledge, and acknowledged
  // re-sends answered "duplicate" (recorded by the killed process).
  int failed_attempts() const { return failed_attempts_.load(); }
  bool duplicate() const { return duplicate_.load(); }
  int reports_sent() const { return reports_sent_.load(); }

 private:
  void Run() {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      ctx_ = &ctx;
    }
    auto reader = notifier_->Subscribe(&ctx, v1::SubscribeRequest());
    reader->WaitForInitialMetadata();  // sent once the notifier holds the stream
    {
      absl::MutexLock lock(&mu_);
      subscribed_ = true;
    }
    v1::Notification n;
    while (reader->Read(&n)) {
      {
        absl::MutexLock lock(&mu_);
        received_.push_back(n.notification_id());
      }
      grpc::ClientContext ack_ctx;
      ack_ctx.AddMetadata("authorization", "Bearer " + token_);
      SetDeadline(ack_ctx);
      v1::AckRequest ack;
      ack.set_notification_id(n.notification_id());
      v1::AckResponse r;
      notifier_->Ack(&ack_ctx, ack, &r);
      if (!reported()) CheckAndReport();
    }
    reader->Finish();
    absl::MutexLock lock(&mu_);
    ctx_ = nullptr;
  }

  void CheckAndReport() {
    while (!stop_) {
      auto channel = grpc::CreateChannel(catalog_(), grpc::InsecureChannelCredentials());
      auto stub = v1::DeviceCatalog::NewStub(channel);
      grpc::ClientContext check_ctx;
      check_ctx.AddMetadata("authorization", "Bearer " + token_);
      SetDeadline(check_ctx);
      v1::CheckForUpdatesRequest check;
      check.mutable_attributes()->set_model("Pixel");
      v1::CheckForUpdatesResponse offers;
      grpc::Status s = stub->CheckForUpdates(&check_ctx, check, &offers);
      if (s.ok()) {
        ++reports_sent_;
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + token_);
        SetDeadline(ctx);
        v1::ReportResultResponse response;
        s = stub->ReportResult(&ctx, SuccessReport(absl::StrCat("report-", id_), release_),
                               &response);
        if (s.ok()) {
          duplicate_ = response.duplicate();
          absl::MutexLock lock(&mu_);
          reported_ = true;
          return;
        }
      }
      ++failed_attempts_;
      absl::SleepFor(absl::Milliseconds(50));  // retry backoff while the catalog is away
    }
  }

  const std::string id_;
  const std::string token_;
  const std::function<std::string()> catalog_;
  const v1::Release release_;
  std::unique_ptr<v1::Notifier::Stub> notifier_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_attempts_{0};
  std::atomic<int> reports_sent_{0};
  std::atomic<bool> duplicate_{false};
  absl::Mutex mu_;
  grpc::ClientContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;
  bool reported_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> received_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class CampaignKillTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    ASSERT_NE(platform_, nullptr);
    // The child processes run on the real clock.
    platform_->clock().Advance(absl::Now() - platform_->clock().Now());
    campaigns_ = v1::CampaignAdmin::NewStub(
        grpc::CreateChannel(platform_->catalog_address(), grpc::InsecureChannelCredentials()));
  }

  // The catalog binary driving campaigns (publisher key, the notifier).
  std::unique_ptr<ServiceProcess> StartCatalog(const std::string& name) {
    std::vector<std::string> flags = platform_->CatalogProcessFlags();
    flags.insert(flags.end(), {absl::StrCat("--api_key_file=", key_file_),
                               absl::StrCat("--notifier_address=", platform_->notifier_address()),
                               "--public_catalog_address=catalog.example:7402",
                               "--campaign_tick_interval=100ms"});
    auto p =
        ServiceProcess::Start("services/catalog/catalog", flags,
                              absl::StrCat(dir_, "/", name, ".log"), "catalog started", kWaitLimit);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }

  // A publisher API key for the catalog processes, written to key_file_.
  void CreatePublisherKey() {
    key_file_ = absl::StrCat(dir_, "/publisher.key");
    auto key = platform_->CreateApiKeyFile("campaign-catalog", "publisher", key_file_);
    ASSERT_TRUE(key.ok()) << key.status();
  }

  // Imports kDevices into auth in one CSV and logs each in: ids and tokens.
  void RegisterDevices(std::vector<std::string>* ids, std::vector<std::string>* tokens) {
    for (int i = 0; i < kDevices; ++i) ids->push_back(absl::StrCat("wave-dev-", 1000 + i));
    auto logged_in = platform_->ImportAndLogIn(*ids, kDevices, absl::ZeroDuration());
    ASSERT_TRUE(logged_in.ok()) << logged_in.status();
    *tokens = *std::move(logged_in);
  }

  absl::StatusOr<v1::Campaign> Get(const std::string& id) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    UPDRAFT_RETURN_IF_ERROR(platform_->AuthorizeAsAdmin(&ctx));
    v1::GetCampaignRequest req;
    req.set_campaign_id(id);
    v1::Campaign c;
    grpc::Status s = campaigns_->GetCampaign(&ctx, req, &c);
    if (!s.ok()) return FromGrpcStatus(s);
    return c;
  }

  std::string dir_ = device::testutil::NewTempDir("campaign-kill");
  std::string key_file_;
  std::unique_ptr<v1::CampaignAdmin::Stub> campaigns_;
};

TEST_F(CampaignKillTest, CatalogKilledMidWaveEveryDeviceAnnouncedAndCountedOnce) {
  const absl::Time test_start = absl::Now();
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("2.0.0", &artifact, &release));
  ASSERT_NO_FATAL_FAILURE(CreatePublisherKey());
  std::vector<std::string> ids, tokens;
  ASSERT_NO_FATAL_FAILURE(RegisterDevices(&ids, &tokens));

  auto first = StartCatalog("first");
  ASSERT_NE(first, nullptr);
  absl::Mutex address_mu;
  std::string catalog_address = first->address();
  auto current = [&] {
    absl::MutexLock lock(&address_mu);
    return catalog_address;
  };
  std::vector<std::unique_ptr<Handset>> handsets;
  for (int i = 0; i < kDevices; ++i) {
    handsets.push_back(std::make_unique<Handset>(ids[i], tokens[i], platform_->notifier_address(),
                                                 current, release));
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        for (auto& h : handsets) {
          if (!h->subscribed()) return false;
        }
        return true;
      },
      kWaitLimit))
      << "not every device subscribed";

  v1::CampaignSpec spec;
  spec.set_name("kill mid wave");
  spec.set_release_id(release.release_id());
  for (const auto& id : ids) spec.mutable_targets()->add_device_ids(id);
  spec.add_waves()->set_percent(20);
  spec.add_waves()->set_percent(40);
  spec.add_waves()->set_percent(100);
  spec.set_success_threshold(1.0);
  spec.set_error_threshold(0.5);
  spec.add_channels(v1::CHANNEL_IP_PUSH);
  v1::Campaign campaign;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
    v1::CreateCampaignRequest req;
    *req.mutable_spec() = spec;
    grpc::Status s = campaigns_->CreateCampaign(&ctx, req, &campaign);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string campaign_id = campaign.campaign_id();

  // Kill once devices of wave 2 have their announcement and some of them
  // have sent their report: wave 2 is being announced (wave 1 had to install
  // completely first) and reports are in flight.
  auto announced = [&] {
    int n = 0;
    for (auto& h : handsets) n += !h->received().empty();
    return n;
  };
  auto reports_sent = [&] {
    int n = 0;
    for (auto& h : handsets) n += h->reports_sent();
    return n;
  };
  const bool wave2 =
      PollUntil([&] { return announced() > kWave1 && reports_sent() >= kWave1 + 10; }, kWaitLimit);
  first->Kill();
  const absl::Time killed_at = absl::Now();
  ASSERT_TRUE(wave2) << "wave 2 was never announced; announced: " << announced();
  const int announced_at_kill = announced();
  absl::flat_hash_set<std::string> at_kill;  // notification IDs devices had
  for (auto& h : handsets) {
    for (const std::string& n : h->received()) at_kill.insert(n);
  }
  auto after_kill = Get(campaign_id);
  ASSERT_TRUE(after_kill.ok()) << after_kill.status();
  // The wave start commits before its announcement.
  EXPECT_EQ(after_kill->current_wave(), 2u);
  EXPECT_EQ(after_kill->waves(0).installed(), kWave1);
  EXPECT_EQ(after_kill->waves(0).devices(), kWave1);
  EXPECT_EQ(after_kill->waves(1).devices(), 2 * kWave1);
  auto pool = PgPool::Create({.uri = platform_->env().pg_uri(), .size = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  // The announcement step committed iff its NOTIFIED events exist (they are
  // written at its commit; nothing else runs now).
  auto read_events = [&](std::map<std::string, std::map<v1::CampaignEventType, int>>* by_device,
                         std::map<v1::CampaignEventType, int>* by_campaign) {
    return (*pool)->Read([&](pqxx::nontransaction& txn) {
      for (const auto& row : txn.exec_params(
               "SELECT encode(event, 'hex') FROM campaign_events WHERE campaign_id = $1",
               campaign_id)) {
        v1::CampaignEvent e;
        EXPECT_TRUE(e.ParseFromString(absl::HexStringToBytes(row[0].as<std::string>())));
        if (e.device_id().empty()) {
          (*by_campaign)[e.type()]++;
        } else if (e.type() == v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED && e.wave() == 2) {
          (*by_device)[e.device_id()][e.type()]++;
        }
      }
      return absl::OkStatus();
    });
  };
  std::map<std::string, std::map<v1::CampaignEventType, int>> wave2_at_kill;
  std::map<v1::CampaignEventType, int> ignored;
  ASSERT_TRUE(read_events(&wave2_at_kill, &ignored).ok());
  const bool committed = !wave2_at_kill.empty();

  auto second = StartCatalog("second");
  ASSERT_NE(second, nullptr);
  {
    absl::MutexLock lock(&address_mu);
    catalog_address = second->address();
  }
  absl::StatusOr<v1::Campaign> final_state;
  const bool completed = PollUntil(
      [&] {
        final_state = Get(campaign_id);
        return final_state.ok() && final_state->state() == v1::CAMPAIGN_COMPLETED;
      },
      kWaitLimit);
  ASSERT_TRUE(final_state.ok()) << final_state.status();
  ASSERT_TRUE(completed) << final_state->DebugString();
  ASSERT_TRUE(PollUntil(
      [&] {
        for (auto& h : handsets) {
          if (!h->reported()) return false;
        }
        return true;
      },
      kWaitLimit));

  // PostgreSQL: counters add up, every device installed, events once each.
  const v1::Campaign& c = *final_state;
  EXPECT_EQ(c.current_wave(), 3u);
  EXPECT_EQ(c.queued_devices(), 0);
  int64_t in_waves = 0;
  for (const v1::WaveProgress& w : c.waves()) {
    in_waves += w.devices();
    EXPECT_EQ(w.installed(), w.devices()) << "wave " << w.wave();
    EXPECT_EQ(w.pending() + w.notified() + w.downloading() + w.failed(), 0) << "wave " << w.wave();
  }
  EXPECT_EQ(in_waves + c.installed_outside_waves(), kDevices);
  // The waves kept their sizes: no device was pulled forward by the kill.
  EXPECT_EQ(c.installed_outside_waves(), 0);
  EXPECT_EQ(c.waves(0).devices(), kWave1);
  EXPECT_EQ(c.waves(1).devices(), 2 * kWave1);
  EXPECT_EQ(c.waves(2).devices(), kDevices - 3 * kWave1);
  std::map<std::string, int> wave_of;
  std::map<std::string, std::map<v1::CampaignEventType, int>> events_of;
  std::map<v1::CampaignEventType, int> campaign_events;
  absl::Status read = (*pool)->Read([&](pqxx::nontransaction& txn) {
    for (const auto& row : txn.exec_params(
             "SELECT device_id, wave, state FROM campaign_devices WHERE campaign_id = $1",
             campaign_id)) {
      wave_of[row[0].as<std::string>()] = row[1].as<int>();
      EXPECT_EQ(row[2].as<std::string>(), "CAMPAIGN_DEVICE_INSTALLED") << row[0].as<std::string>();
    }
    for (const auto& row :
         txn.exec_params("SELECT encode(event, 'hex') FROM campaign_events WHERE campaign_id = $1",
                         campaign_id)) {
      v1::CampaignEvent e;
      EXPECT_TRUE(e.ParseFromString(absl::HexStringToBytes(row[0].as<std::string>())));
      if (e.device_id().empty()) {
        campaign_events[e.type()]++;
      } else {
        events_of[e.device_id()][e.type()]++;
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(wave_of.size(), static_cast<size_t>(kDevices));
  EXPECT_EQ(campaign_events[v1::CAMPAIGN_EVENT_WAVE_STARTED], 3);
  EXPECT_EQ(campaign_events[v1::CAMPAIGN_EVENT_COMPLETED], 1);
  for (const std::string& id : ids) {
    EXPECT_GE(wave_of[id], 1) << id;
    // None when it installed from the rolled-back announcement before the
    // next step; then it was not announced again.
    EXPECT_LE(events_of[id][v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED], 1) << id;
    EXPECT_EQ(events_of[id][v1::CAMPAIGN_EVENT_DEVICE_INSTALLED], 1) << id;
  }

  // Announcements: every device received one notification ID, also the
  // devices announced again by the second process after the kill (the same
  // idempotency key: the notifier kept the notification they held).
  std::map<std::string, std::string> held;  // device -> its notification ID
  std::map<int, std::set<std::string>> wave_ids;
  int again = 0, not_again = 0, failed_attempts = 0, duplicates = 0;
  for (auto& h : handsets) {
    std::vector<std::string> got = h->received();
    std::set<std::string> distinct(got.begin(), got.end());
    ASSERT_FALSE(got.empty()) << h->id() << " was never announced";
    EXPECT_EQ(distinct.size(), 1u)
        << h->id() << " received " << got.size() << " notifications with different IDs";
    held[h->id()] = got.front();
    wave_ids[wave_of[h->id()]].insert(distinct.begin(), distinct.end());
    const bool told_before_kill = wave_of[h->id()] == 2 && at_kill.contains(got.front());
    const int notified = events_of[h->id()][v1::CAMPAIGN_EVENT_DEVICE_NOTIFIED];
    if (!committed && told_before_kill && notified == 1) {
      // Announced again by the second process: the same notification ID.
      ++again;
      EXPECT_EQ(distinct, std::set<std::string>{got.front()}) << h->id();
    }
    not_again += notified == 0;
    failed_attempts += h->failed_attempts();
    duplicates += h->duplicate();
  }
  // Each wave's announcement was one call (500 targets a call), repeated or
  // not: one notification ID per wave.
  for (int w = 1; w <= 3; ++w) EXPECT_EQ(wave_ids[w].size(), 1u) << "wave " << w;
  // The notifier's outbox: one row per device under the campaign's keys,
  // holding the notification the device received.
  std::map<std::string, int> rows_of;
  read = (*pool)->Read([&](pqxx::nontransaction& txn) {
    for (const auto& row :
         txn.exec_params("SELECT device_id, notification_id, idempotency_key FROM notifier_outbox "
                         "WHERE idempotency_key LIKE $1",
                         absl::StrCat("campaign/", campaign_id, "/%"))) {
      const std::string device = row[0].as<std::string>();
      ++rows_of[device];
      EXPECT_EQ(row[1].as<std::string>(), held[device]) << device;
      EXPECT_EQ(row[2].as<std::string>(),
                absl::StrCat("campaign/", campaign_id, "/wave/", wave_of[device], "/attempt/0"))
          << device;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(rows_of.size(), static_cast<size_t>(kDevices));
  for (const auto& [device, rows] : rows_of) EXPECT_EQ(rows, 1) << device;

  // Result reports: exactly one per device.
  for (const std::string& id : ids) {
    v1::DeviceState state = DeviceState(id);
    ASSERT_EQ(state.history_size(), 1) << id;
    EXPECT_EQ(state.history(0).report_id(), absl::StrCat("report-", id));
    EXPECT_EQ(state.history(0).result(), v1::SUCCESS);
  }
  std::cerr << "killed after " << announced_at_kill - kWave1
            << " wave-2 devices had the announcement; wave-2 step "
            << (committed ? "committed" : "rolled back") << "; " << again
            << " devices announced again, each with the notification ID it had; " << not_again
            << " installed from the rolled-back announcement, not announced again; "
            << failed_attempts << " report attempts failed, " << duplicates
            << " re-sent reports answered duplicate; completed "
            << absl::ToDoubleSeconds(absl::Now() - killed_at) << " s after the kill; test "
            << absl::ToDoubleSeconds(absl::Now() - test_start) << " s\n";
  handsets.clear();
}

}  // namespace
}  // namespace updraft::e2e
