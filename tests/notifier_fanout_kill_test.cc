// Fault injection against a real notifier process killed between two stream
// writes of one fan-out (issue 10). 3,000 devices imported into auth (one
// CSV), each logged in with its own key, hold IP Push streams to the
// notifier binary running as a child process (real auth in-process, real
// PostgreSQL outbox and Redis); 10 devices share each gRPC connection (the
// notifier authenticates every stream by its own token). An announcement to
// all of them is made and the notifier is SIGKILLed from the read callback
// of the first device that has it; then again (next notifier) once a tenth
// have it, so that many devices get it twice. After each kill a new
// notifier process starts on the same stores and the devices re-subscribe
// to it, as the SDK does. What must hold:
//  - the kill landed mid-fan-out: the dying notifier wrote the announcement
//    to some streams and never to the others (counted once every stream to
//    it ended, so bytes it wrote before dying count as written). Should a
//    kill come after the last write, the scenario runs again on the next
//    notifier, up to kAttempts times; one attempt must land;
//  - every device receives the announcement: nothing is lost;
//  - a device that receives it twice (from the dying notifier, then on
//    reconnect) sees the same notification ID, and no device sees any other
//    notification, so the SDK drops the duplicate; nobody gets it a third
//    time, and a device whose Ack the dying notifier answered is not sent it
//    again;
//  - every outbox row of the announcement ends acknowledged, and every
//    device had an Ack answered OK, except devices whose only Ack went to
//    the dying notifier, which committed it (its row is acknowledged, it
//    was not sent again) and died before answering.
// Waiting on other processes needs polling; every wait is bounded.

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "common/pg_pool.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"
#include "tests/notifier_fleet.h"
#include "tests/platform.h"
#include "tests/service_process.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::e2e {
namespace {

constexpr int kDevices = 3000;
constexpr int kDevicesPerConnection = 10;
constexpr int kAttempts = 3;
constexpr absl::Duration kWaitLimit = absl::Seconds(30);

std::unique_ptr<ServiceProcess> StartNotifier(Platform& platform, const std::string& key_file,
                                              const std::string& log) {
  auto p =
      ServiceProcess::Start("services/notifier/notifier", platform.NotifierProcessFlags(key_file),
                            log, "notifier listening", kWaitLimit);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

// Imports the devices into auth in one CSV and logs each in. Auth allows
// 1,000 login steps (GetChallenge, Login) per source address and minute of
// the platform's clock: the logins run in batches, one clock minute apart,
// starting 10 minutes in the past so that every token (valid 15 minutes) is
// already issued by the real clock the notifier processes use.
std::vector<NotifierFleet::Device> RegisterDevices(Platform& platform) {
  constexpr int kPerWindow = 450;
  platform.clock().Advance(absl::Now() - absl::Minutes(10) - platform.clock().Now());
  std::vector<NotifierFleet::Device> devices(kDevices);
  std::vector<std::string> ids;
  for (int i = 0; i < kDevices; ++i) {
    devices[i].id = absl::StrCat("fan-dev-", 10000 + i);
    ids.push_back(devices[i].id);
  }
  platform.clock().Advance(absl::Minutes(1));
  auto tokens = platform.ImportAndLogIn(ids, kPerWindow, absl::Minutes(1));
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  if (tokens.ok()) {
    for (int i = 0; i < kDevices; ++i) devices[i].token = (*tokens)[i];
  }
  platform.clock().Advance(absl::Now() - platform.clock().Now());
  return devices;
}

// Outbox rows of `notification_id` in each state.
std::map<std::string, int> OutboxStates(PgPool& pool, const std::string& notification_id) {
  std::map<std::string, int> states;
  absl::Status s = pool.Read([&](pqxx::nontransaction& txn) {
    for (const auto& row :
         txn.exec_params("SELECT state, count(*) FROM notifier_outbox WHERE notification_id = $1 "
                         "GROUP BY state",
                         notification_id)) {
      states[row[0].as<std::string>()] = row[1].as<int>();
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return states;
}

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), " ms"); }

// The platform (auth in-process), the devices, and the notifier process of
// the current generation, which each scenario kills and replaces.
class NotifierFanOutKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Platform::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    platform_ = *std::move(started);
    ASSERT_TRUE(WriteKeyFile(key_file_, Ed25519KeyPair::Generate()->private_key()).ok());
    auto pool = PgPool::Create({.uri = platform_->env().pg_uri(), .size = 1});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    devices_ = RegisterDevices(*platform_);
    ASSERT_FALSE(HasFailure());
    fleet_ = std::make_unique<NotifierFleet>(devices_, kDevicesPerConnection);
    StartNextNotifier();
    ASSERT_NE(notifier_, nullptr);
    ASSERT_TRUE(PollUntil([&] { return fleet_->Subscribed(gen_) == kDevices; }, kWaitLimit))
        << fleet_->Subscribed(gen_) << " of " << kDevices << " devices subscribed";
  }
  void TearDown() override {
    if (fleet_) fleet_->Stop();
  }

  // A new notifier process (generation gen_ + 1) on the same stores; the
  // devices subscribe to it.
  void StartNextNotifier() {
    ++gen_;
    notifier_ =
        StartNotifier(*platform_, key_file_, absl::StrCat(dir_, "/notifier-", gen_, ".log"));
    if (notifier_ != nullptr) fleet_->Target(notifier_->address(), gen_);
  }

  v1::AnnounceRequest AnnounceToAll(const std::string& location) {
    v1::AnnounceRequest announce;
    announce.set_software_name("demo-app");
    announce.set_location(location);
    announce.set_server_address("catalog.example:7402");
    for (const auto& d : devices_) announce.add_targets()->set_device_id(d.id);
    return announce;
  }

  grpc::Status Announce(const std::string& address, const v1::AnnounceRequest& request,
                        v1::AnnounceResponse* response) {
    auto stub =
        v1::Notifier::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kWaitLimit));
    EXPECT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
    return stub->Announce(&ctx, request, response);
  }

  // Announces to every device and SIGKILLs the notifier from the read
  // callback of the `kill_at_read`-th device to read it (no polling in
  // between); then a new notifier takes over. Checks what must hold and
  // sets `landed` when the dead notifier wrote some streams and not others.
  void KillMidFanOut(int kill_at_read, const std::string& label, bool* landed) {
    absl::Notification killed;
    absl::Time kill_read, reaped;
    int read_at_kill = 0;
    const int dying_gen = gen_;
    const int receipts_before = fleet_->Receipts();
    fleet_->OnReceipt(kill_at_read, [&] {
      kill_read = absl::Now();
      fleet_->Target("", 0);  // devices whose stream ends wait for the next notifier
      notifier_->Kill();
      reaped = absl::Now();
      read_at_kill = fleet_->Receipts() - receipts_before;
      killed.Notify();
    });
    v1::AnnounceResponse response;
    grpc::Status announced;
    const absl::Time announce_start = absl::Now();
    std::thread announcer([&, address = notifier_->address()] {
      announced = Announce(address, AnnounceToAll(label), &response);
    });
    const bool fanned_out = killed.WaitForNotificationWithTimeout(kWaitLimit);
    announcer.join();
    ASSERT_TRUE(fanned_out) << "fewer than " << kill_at_read << " devices read the announcement";
    // Everything the dead notifier wrote has been read once its streams end.
    ASSERT_TRUE(PollUntil([&] { return fleet_->OpenStreams(dying_gen) == 0; }, kWaitLimit));
    const std::string id = fleet_->FirstNotificationFrom(dying_gen, announced_ids_);
    announced_ids_.insert(id);
    if (announced.ok()) {
      EXPECT_EQ(response.notification_id(), id);
    } else {
      // Killed before its answer left: the operator sees UNAVAILABLE.
      EXPECT_EQ(announced.error_code(), grpc::StatusCode::UNAVAILABLE) << announced.error_message();
    }
    const int written = fleet_->DevicesWith(id, dying_gen);
    const int acked_by_dying = fleet_->DevicesAckedBy(id, dying_gen);
    const absl::Duration spread = fleet_->ReceiptSpread(id, dying_gen);

    const absl::Time restart_start = absl::Now();
    StartNextNotifier();
    ASSERT_NE(notifier_, nullptr);
    const absl::Time restarted = absl::Now();
    const bool all = PollUntil([&] { return fleet_->DevicesWith(id) == kDevices; }, kWaitLimit);
    const absl::Time all_delivered = absl::Now();
    EXPECT_TRUE(all) << kDevices - fleet_->DevicesWith(id) << " of " << kDevices
                     << " devices never got the announcement";
    std::map<std::string, int> states;
    const bool acknowledged = PollUntil(
        [&] {
          states = OutboxStates(*pool_, id);
          return states["acknowledged"] == kDevices;
        },
        kWaitLimit);
    const absl::Time all_acknowledged = absl::Now();
    EXPECT_TRUE(acknowledged) << "outbox rows: queued " << states["queued"] << ", sent "
                              << states["sent"] << ", acknowledged " << states["acknowledged"]
                              << ", failed " << states["failed"];
    EXPECT_EQ(states.size(), 1u) << "rows in another state than acknowledged";
    EXPECT_TRUE(PollUntil([&] { return fleet_->Subscribed(gen_) == kDevices; }, kWaitLimit));
    // Duplicates: same ID, at most once per notifier, none after an answered Ack.
    NotifierFleet::Counts c;
    PollUntil(
        [&] {
          c = fleet_->Check(id, announced_ids_, dying_gen);
          return c.not_acked == 0;
        },
        kWaitLimit);
    EXPECT_EQ(c.other_ids, 0) << "devices that received another notification";
    EXPECT_EQ(c.more_than_twice, 0) << "devices that received it three times or more";
    EXPECT_EQ(c.resent_after_ack, 0) << "devices sent it again after the dying notifier's Ack";
    EXPECT_EQ(c.not_acked, 0) << "devices without an Ack answered OK:\n" << c.not_acked_examples;
    EXPECT_GE(written, kill_at_read);

    std::cerr << label << ": kill at read " << kill_at_read << " of " << kDevices
              << "; the dying notifier wrote " << written << ", never wrote " << kDevices - written
              << " (" << read_at_kill << " read when it was reaped); " << acked_by_dying
              << " Acks answered before the kill; " << c.twice << " devices received it twice; "
              << c.answer_lost
              << " Acks committed by the dying notifier with the answer lost; Announce "
              << (announced.ok() ? "OK" : "UNAVAILABLE") << "; announce to kill "
              << Ms(kill_read - announce_start) << ", kill to reaped " << Ms(reaped - kill_read)
              << ", receipts from the dying notifier over " << Ms(spread) << ", restart "
              << Ms(restarted - restart_start) << ", all delivered "
              << Ms(all_delivered - restarted) << " after it, all acknowledged "
              << Ms(all_acknowledged - restarted) << "\n";
    RecordProperty(label + "_not_written", kDevices - written);
    *landed = written < kDevices;
  }

  const std::string dir_ = device::testutil::NewTempDir("notifier-fanout-kill");
  const std::string key_file_ = dir_ + "/notification.key";
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<PgPool> pool_;
  std::vector<NotifierFleet::Device> devices_;
  std::unique_ptr<NotifierFleet> fleet_;
  int gen_ = 0;
  std::unique_ptr<ServiceProcess> notifier_;
  std::set<std::string> announced_ids_;
};

TEST_F(NotifierFanOutKillTest, KilledBetweenTwoStreamWritesOfOneFanOutLosesNothing) {
  // Killed when the first device has it, then when a tenth have it (so
  // that many devices get it twice). Should a kill come after the last
  // write, the scenario runs again on the next notifier.
  for (int kill_at : {1, kDevices / 10}) {
    bool landed = false;
    for (int attempt = 1; attempt <= kAttempts && !landed; ++attempt) {
      KillMidFanOut(kill_at, absl::StrCat("kill_at_", kill_at, "_attempt_", attempt), &landed);
      if (HasFatalFailure()) return;
    }
    EXPECT_TRUE(landed) << "in " << kAttempts << " attempts the kill at read " << kill_at
                        << " never came before the fan-out's last write";
  }

  // The same fan-out left alone, for how long one takes: every device gets
  // it once.
  v1::AnnounceResponse response;
  const absl::Time start = absl::Now();
  grpc::Status s = Announce(notifier_->address(), AnnounceToAll("rel_uninterrupted"), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string id = response.notification_id();
  announced_ids_.insert(id);
  EXPECT_TRUE(PollUntil([&] { return fleet_->DevicesWith(id) == kDevices; }, kWaitLimit));
  NotifierFleet::Counts c;
  EXPECT_TRUE(PollUntil(
      [&] {
        c = fleet_->Check(id, announced_ids_, gen_);
        return c.not_acked == 0;
      },
      kWaitLimit));
  EXPECT_EQ(c.twice + c.more_than_twice + c.other_ids, 0);
  std::cerr << "uninterrupted: announce to last read " << Ms(fleet_->LastReceipt(id) - start)
            << ", first to last read " << Ms(fleet_->ReceiptSpread(id, gen_)) << "\n";
}

}  // namespace
}  // namespace updraft::e2e
