// A small fleet against fake auth, catalog, download and notifier services
// on 127.0.0.1 (port 0). Registration through auth's ImportDevices is
// covered by tests/fleet_sim_test.cc against the real platform.

#include "tools/fleet_sim/fleet.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/fake_notifier.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/test_util.h"

namespace updraft::fleet_sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr uint32_t kChunk = 1024;
constexpr int kDevices = 12;

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = device::testutil::NewTempDir("fleet");
    notifier_.SetKeys({signing_.public_key()});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&auth_);
    builder.RegisterService(&catalog_);
    builder.RegisterService(&download_);
    builder.RegisterService(&notifier_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port_);
    std::string artifact =
        device::testutil::BuildTar({device::testutil::File("app.bin", "fleet app"),
                                    device::testutil::File("libcodec.so", std::string(3000, 'c'))});
    download_.AddArtifact(artifact, kChunk);
    v1::Offer offer = device::testutil::DemoOffer("r_1", "1.0.0", artifact, kChunk);
    offer.set_download_target(address_);
    catalog_.SetOffers({offer});
  }

  void TearDown() override {
    fleet_.reset();
    notifier_.Shutdown();
    server_->Shutdown();
  }

  Fleet::Options Options() {
    Fleet::Options o;
    o.base_dir = dir_ + "/fleet";
    o.devices = kDevices;
    o.id_prefix = "f-";
    o.auth_address = address_;
    o.catalog_address = address_;
    o.notifier_address = address_;
    o.security.plaintext = true;
    o.concurrency = 4;
    o.reconnect.initial = absl::Milliseconds(20);
    o.devices_per_connection = 5;  // 3 connections for 12 devices
    return o;
  }

  // Registers every device's key with the fake auth, from the import CSV.
  void RegisterAll() {
    std::vector<std::string> lines =
        absl::StrSplit(fleet_->ImportCsv(0, kDevices), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), kDevices + 1u);
    EXPECT_EQ(lines[0], "device_id,key_type,public_key");
    for (size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> f = absl::StrSplit(lines[i], ',');
      ASSERT_EQ(f.size(), 3u);
      EXPECT_EQ(f[1], "ed25519");
      std::string raw;
      ASSERT_TRUE(absl::WebSafeBase64Unescape(f[2], &raw));
      auth_.RegisterDevice(f[0], raw);
    }
  }

  std::string dir_, address_;
  Ed25519KeyPair signing_ = *Ed25519KeyPair::Generate();
  RealClock clock_;
  device::testutil::FakeAuthService auth_{&clock_, absl::Minutes(15)};
  device::testutil::FakeCatalogService catalog_{&auth_};
  device::testutil::FakeDownloadService download_{&auth_};
  device::testutil::FakeNotifierService notifier_{&auth_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(FleetTest, EveryDeviceHasItsOwnKeyAndStateAndUpgrades) {
  auto fleet = Fleet::Create(Options());
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  fleet_ = *std::move(fleet);
  ASSERT_EQ(fleet_->size(), kDevices);
  EXPECT_EQ(fleet_->device_id(0), "f-000001");
  EXPECT_EQ(fleet_->device_id(kDevices - 1), "f-000012");
  RegisterAll();

  PhaseStats up = fleet_->RunActiveUpgrades();
  EXPECT_THAT(up.outcomes, ElementsAre(Pair("installed", kDevices)));
  EXPECT_EQ(up.durations_ms.size(), static_cast<size_t>(kDevices));
  EXPECT_GT(up.PercentileMs(99), 0);
  for (int i = 0; i < kDevices; ++i) {
    EXPECT_EQ(device::testutil::ReadOrMissing(
                  absl::StrCat(dir_, "/fleet/", fleet_->device_id(i), "/apps/demo-app/app.bin")),
              "fleet app");
  }
  EXPECT_EQ(catalog_.reports().size(), static_cast<size_t>(kDevices));
  // Keys differ per device.
  std::string csv = fleet_->ImportCsv(0, 2);
  std::vector<std::string> rows = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[1].substr(rows[1].rfind(',')), rows[2].substr(rows[2].rfind(',')));

  // Second run: state persisted per device.
  EXPECT_THAT(fleet_->RunActiveUpgrades().outcomes, ElementsAre(Pair("nothing_new", kDevices)));

  // The same directories again are the same devices (keys reloaded).
  fleet_.reset();
  fleet_ = *Fleet::Create(Options());
  EXPECT_EQ(fleet_->ImportCsv(0, 2), csv);
  EXPECT_THAT(fleet_->RunActiveUpgrades().outcomes, ElementsAre(Pair("nothing_new", kDevices)));
}

TEST_F(FleetTest, UnregisteredDevicesFailToLogIn) {
  // The fake auth answers NOT_FOUND for an unknown device.
  fleet_ = *Fleet::Create(Options());
  PhaseStats up = fleet_->RunActiveUpgrades();
  EXPECT_THAT(up.outcomes, ElementsAre(Pair("error_not_found", kDevices)));
  PhaseStats streams = fleet_->OpenStreams(absl::Seconds(60));
  EXPECT_THAT(streams.outcomes, ElementsAre(Pair("login_not_found", kDevices)));
  EXPECT_EQ(fleet_->streams_open(), 0);
}

TEST_F(FleetTest, StreamsStayOpenAndANotificationRunsTheFlow) {
  fleet_ = *Fleet::Create(Options());
  RegisterAll();
  NotificationFields f;
  f.id = std::string(kNotificationIdSize, '\x05');
  f.server_address = address_;
  f.software_name = "demo-app";
  f.location = "r_1";
  f.timestamp_unix = absl::ToUnixSeconds(absl::Now());
  f.expires_at_unix = f.timestamp_unix + 3600;
  v1::Notification n;
  n.set_notification_id(NotificationIdHex(f.id));
  n.set_signed_(*EncodeNotification(f, signing_));
  notifier_.AddStream({n});  // the first stream gets it, then ends
  notifier_.AddStream({});   // the others are held open

  PhaseStats streams = fleet_->OpenStreams(absl::Seconds(60));
  EXPECT_EQ(streams.outcomes["open"] + streams.outcomes["stream_ok"], kDevices)
      << ::testing::PrintToString(streams.outcomes);
  // The stream that ended is re-opened (20 ms backoff), the others held.
  EXPECT_TRUE(fleet_->WaitForStreams(kDevices, kDevices + 1, absl::Seconds(60)));
  EXPECT_EQ(fleet_->streams_open(), kDevices);
  EXPECT_EQ(notifier_.subscribes(), kDevices + 1);
  EXPECT_TRUE(fleet_->WaitForPushes(1, absl::Seconds(60)));
  EXPECT_THAT(fleet_->PushStats().outcomes, ElementsAre(Pair("installed", 1)));
  EXPECT_EQ(notifier_.acks().size(), 1u);
  fleet_->StopStreams();
  EXPECT_EQ(fleet_->streams_open(), 0);
}

TEST_F(FleetTest, BadOptionsAndTheFileLimit) {
  Fleet::Options o = Options();
  o.devices = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(Fleet::Create(o).status()));
  o = Options();
  o.base_dir = "";
  EXPECT_TRUE(absl::IsInvalidArgument(Fleet::Create(o).status()));
  o = Options();
  o.security.plaintext = false;
  EXPECT_TRUE(absl::IsInvalidArgument(Fleet::Create(o).status()));
  absl::Status s = Fleet::CheckFileLimit(100000000, 1);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("devices fit"));
  EXPECT_TRUE(Fleet::CheckFileLimit(100, 1).ok());
}

}  // namespace
}  // namespace updraft::fleet_sim
