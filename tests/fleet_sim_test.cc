// The fleet simulator against the whole platform: registration through
// AuthAdmin.ImportDevices with an admin operator token, the active upgrade
// on every device, and every device's IP Push stream held by the real
// notifier.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e_fixture.h"
#include "tools/fleet_sim/fleet.h"

namespace updraft::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr int kDevices = 30;

class FleetSimTest : public PlatformTest {
 protected:
  std::unique_ptr<fleet_sim::Fleet> NewFleet(const std::string& dir) {
    fleet_sim::Fleet::Options o;
    o.base_dir = dir;
    o.devices = kDevices;
    o.id_prefix = "fleet-";
    o.auth_address = platform_->auth_address();
    o.catalog_address = platform_->catalog_address();
    o.notifier_address = absl::StrCat("127.0.0.1:", platform_->notifier_server().port());
    o.security.plaintext = true;
    o.concurrency = 8;
    o.devices_per_connection = 10;
    auto fleet = fleet_sim::Fleet::Create(std::move(o));
    EXPECT_TRUE(fleet.ok()) << fleet.status();
    return fleet.ok() ? *std::move(fleet) : nullptr;
  }

  fleet_sim::PhaseStats Register(fleet_sim::Fleet& fleet) {
    return fleet.Register(
        [this](grpc::ClientContext* ctx) { return platform_->AuthorizeAsAdmin(ctx); });
  }
};

TEST_F(FleetSimTest, RegistersUpgradesAndHoldsStreams) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string dir = device::testutil::NewTempDir("fleet");
  std::unique_ptr<fleet_sim::Fleet> fleet = NewFleet(dir);
  ASSERT_NE(fleet, nullptr);

  fleet_sim::PhaseStats registered = Register(*fleet);
  EXPECT_THAT(registered.outcomes, ElementsAre(Pair("imported", kDevices)));

  fleet_sim::PhaseStats upgraded = fleet->RunActiveUpgrades();
  EXPECT_THAT(upgraded.outcomes, ElementsAre(Pair("installed", kDevices)));
  EXPECT_EQ(ReadFile(absl::StrCat(dir, "/fleet-000030/apps/demo-app/app.bin")), artifact.app_bin);
  auto state = platform_->GetDeviceState("fleet-000030");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_GE(state->deployed_size(), 2);

  fleet_sim::PhaseStats streams = fleet->OpenStreams(absl::Seconds(60));
  EXPECT_THAT(streams.outcomes, ElementsAre(Pair("open", kDevices)));
  EXPECT_EQ(fleet->streams_open(), kDevices);
  EXPECT_EQ(platform_->notifier_server().connected_devices(), static_cast<size_t>(kDevices));
  fleet->StopStreams();
  EXPECT_EQ(fleet->streams_open(), 0);

  // Registering again: every device is already there.
  fleet.reset();
  fleet = NewFleet(dir);
  EXPECT_THAT(Register(*fleet).outcomes, ElementsAre(Pair("already_registered", kDevices)));
  EXPECT_THAT(fleet->RunActiveUpgrades().outcomes, ElementsAre(Pair("nothing_new", kDevices)));
}

}  // namespace
}  // namespace updraft::e2e
