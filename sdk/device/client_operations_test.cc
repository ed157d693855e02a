// Client::HandleOperation: per-component operations on a real
// DirectoryInstaller, reported to an in-process fake catalog.
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/file_util.h"
#include "sdk/device/mocks.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using ::testing::Return;
using Op = v1::ComponentOperation;

constexpr char kDevice[] = "phone-0002";
constexpr uint32_t kChunk = 512;

class ClientOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("client_ops");
    ON_CALL(key_store_, Load()).WillByDefault(Return(absl::StatusOr<Ed25519KeyPair>(key_)));
    auth_.RegisterDevice(kDevice, key_.public_key());
    artifact_ = testutil::BuildTar({testutil::File("app.bin", std::string(3000, 'a')),
                                    testutil::File("libcodec.so", std::string(1000, 'c'))});
    download_.AddArtifact(artifact_, kChunk);
    offer_ = testutil::DemoOffer("r_1", "1.0.0", artifact_, kChunk);
    catalog_.SetOffers({offer_});
    server_ = testutil::StartInProcess({&auth_, &catalog_, &download_});
    installer_ = *DirectoryInstaller::Create({.root = dir_ + "/handset"});
  }

  void TearDown() override { server_.server->Shutdown(); }

  std::unique_ptr<Client> NewClient(Installer* installer) {
    Client::Options o;
    o.device_id = kDevice;
    o.auth_channel = server_.channel;
    o.catalog_channel = server_.channel;
    o.download_channel_factory = [this](const std::string&) { return server_.channel; };
    o.key_store = &key_store_;
    o.installer = installer;
    o.state_dir = dir_ + "/state";
    o.consent = [](const v1::Offer&) { return true; };
    o.clock = &clock_;
    o.sleep = [](absl::Duration) {};
    auto c = Client::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }

  // A client with demo-app 1.0.0 (DC_1: app.bin, DC_2: libcodec.so) installed.
  std::unique_ptr<Client> Installed() {
    auto client = NewClient(installer_.get());
    auto outcomes = client->RunActiveUpgrade();
    EXPECT_TRUE(outcomes.ok() && (*outcomes)[0].success());
    return client;
  }

  static v1::PendingOperation Pending(const std::string& id, Op::Kind kind, const std::string& dc) {
    v1::PendingOperation op;
    op.set_operation_id(id);
    op.set_kind(kind);
    op.set_dc_id(dc);
    op.set_release_id("r_1");
    return op;
  }

  const v1::InventoryComponent* Deployed(Client& client, const std::string& dc) {
    static v1::DeviceLocalState state;
    state = client.LocalState();
    for (const auto& c : state.deployed()) {
      if (c.dc_id() == dc) return &c;
    }
    return nullptr;
  }

  std::string PackageFile(const std::string& file) {
    return testutil::ReadOrMissing(absl::StrCat(dir_, "/handset/demo-app/", file));
  }

  std::string dir_;
  Ed25519KeyPair key_ = *Ed25519KeyPair::Generate();
  ::testing::NiceMock<MockKeyStore> key_store_;
  FakeClock clock_;
  testutil::FakeAuthService auth_{&clock_, absl::Minutes(15)};
  testutil::FakeCatalogService catalog_{&auth_};
  testutil::FakeDownloadService download_{&auth_};
  testutil::InProcessServer server_;
  std::unique_ptr<DirectoryInstaller> installer_;
  std::string artifact_;
  v1::Offer offer_;
};

TEST_F(ClientOperationsTest, DeactivateActivateAndRemoveOneComponent) {
  auto client = Installed();
  UpdateOutcome out = client->HandleOperation(Pending("op_1", Op::DEACTIVATE, "DC_2"), 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_TRUE(out.reported);
  EXPECT_EQ(out.operation_id, "op_1");
  EXPECT_EQ(Deployed(*client, "DC_2")->state(), v1::INACTIVE);
  EXPECT_FALSE(installer_->IsActive("demo-app", "DC_2"));
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_1"));
  v1::ReportResultRequest report = catalog_.reports().back();
  EXPECT_EQ(report.operation_id(), "op_1");
  EXPECT_EQ(report.release_id(), "r_1");
  EXPECT_EQ(report.result(), v1::SUCCESS);
  bool inactive_reported = false;
  for (const auto& c : report.deployed()) {
    if (c.dc_id() == "DC_2") inactive_reported = c.state() == v1::INACTIVE;
  }
  EXPECT_TRUE(inactive_reported);

  // Delivered again (e.g. the check raced the report): not re-run.
  const size_t reports = catalog_.reports().size();
  EXPECT_TRUE(
      client->HandleOperation(Pending("op_1", Op::DEACTIVATE, "DC_2"), 1, 1).operation_id.empty());
  EXPECT_EQ(catalog_.reports().size(), reports);

  out = client->HandleOperation(Pending("op_2", Op::ACTIVATE, "DC_2"), 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_EQ(Deployed(*client, "DC_2")->state(), v1::ACTIVE);
  EXPECT_TRUE(installer_->IsActive("demo-app", "DC_2"));

  out = client->HandleOperation(Pending("op_3", Op::REMOVE, "DC_2"), 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_EQ(Deployed(*client, "DC_2"), nullptr);
  EXPECT_EQ(PackageFile("libcodec.so"), "<missing>");
  EXPECT_EQ(PackageFile("app.bin"), std::string(3000, 'a'));
  ASSERT_EQ(client->LocalState().packages_size(), 1);
  EXPECT_THAT(client->LocalState().packages(0).dc_ids(), ::testing::ElementsAre("DC_1"));

  // The last DC takes the package with it.
  out = client->HandleOperation(Pending("op_4", Op::REMOVE, "DC_1"), 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_EQ(client->LocalState().deployed_size(), 0);
  EXPECT_EQ(client->LocalState().packages_size(), 0);
  EXPECT_FALSE(PathExists(dir_ + "/handset/demo-app"));
}

TEST_F(ClientOperationsTest, FailuresCarryTheOperationsScomoCode) {
  auto client = Installed();
  UpdateOutcome out = client->HandleOperation(Pending("op_1", Op::REMOVE, "DC_9"), 1, 1);
  EXPECT_EQ(out.result, v1::REMOVE_FAILED);
  EXPECT_EQ(catalog_.reports().back().result(), v1::REMOVE_FAILED);
  EXPECT_EQ(client->HandleOperation(Pending("op_2", Op::ACTIVATE, "DC_9"), 1, 1).result,
            v1::ACTIVATE_FAILED);
  EXPECT_EQ(client->HandleOperation(Pending("op_3", Op::DEACTIVATE, "DC_9"), 1, 1).result,
            v1::DEACTIVATE_FAILED);
  EXPECT_EQ(
      client->HandleOperation(Pending("op_4", static_cast<Op::Kind>(42), "DC_1"), 1, 1).result,
      v1::NOT_IMPLEMENTED);
  EXPECT_EQ(client->HandleOperation(Pending("op_5", Op::UPDATE, "DC_1"), 1, 1).result,
            v1::UNDEFINED_ERROR);  // No offer.
  EXPECT_EQ(Deployed(*client, "DC_1")->state(), v1::ACTIVE);
}

TEST_F(ClientOperationsTest, InstallerWithoutComponentSupportReportsNotImplemented) {
  auto first = Installed();
  first.reset();
  ::testing::NiceMock<MockInstaller> plain;  // Only Install and Remove.
  auto client = NewClient(&plain);
  UpdateOutcome out = client->HandleOperation(Pending("op_1", Op::DEACTIVATE, "DC_1"), 1, 1);
  EXPECT_EQ(out.result, v1::NOT_IMPLEMENTED);
  EXPECT_EQ(catalog_.reports().back().result(), v1::NOT_IMPLEMENTED);
  EXPECT_EQ(Deployed(*client, "DC_1")->state(), v1::ACTIVE);
}

TEST_F(ClientOperationsTest, UnsentReportIsResentWhenTheOperationComesAgain) {
  auto client = Installed();
  catalog_.FailNextReports(1);
  UpdateOutcome out = client->HandleOperation(Pending("op_1", Op::DEACTIVATE, "DC_1"), 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS);
  EXPECT_FALSE(out.reported);
  ASSERT_EQ(client->LocalState().pending_reports_size(), 1);
  const std::string report_id = out.report_id;
  // Delivered again: the same report (same report_id) is sent, the
  // installer is not called again.
  out = client->HandleOperation(Pending("op_1", Op::DEACTIVATE, "DC_1"), 1, 1);
  EXPECT_TRUE(out.reported);
  EXPECT_EQ(out.report_id, report_id);
  EXPECT_EQ(catalog_.reports().back().report_id(), report_id);
  EXPECT_EQ(client->LocalState().pending_reports_size(), 0);
}

TEST_F(ClientOperationsTest, OperationWithoutAnIdIsIgnoredAndLeavesPendingReportsAlone) {
  catalog_.FailNextReports(1);
  auto client = Installed();  // the install's own report is not delivered
  ASSERT_EQ(client->LocalState().pending_reports_size(), 1);
  const size_t sent = catalog_.reports().size();
  UpdateOutcome out = client->HandleOperation(Pending("", Op::DEACTIVATE, "DC_1"), 1, 1);
  EXPECT_TRUE(out.report_id.empty());
  EXPECT_FALSE(out.reported);
  // Neither executed nor mistaken for the update's pending report.
  EXPECT_EQ(catalog_.reports().size(), sent);
  EXPECT_EQ(client->LocalState().pending_reports_size(), 1);
  const v1::InventoryComponent* dc = Deployed(*client, "DC_1");
  ASSERT_NE(dc, nullptr);
  EXPECT_EQ(dc->state(), v1::ACTIVE);
}

TEST_F(ClientOperationsTest, UpdateToTheInstalledReleaseSucceedsAtOnce) {
  auto client = Installed();
  v1::PendingOperation op = Pending("op_1", Op::UPDATE, "DC_1");
  *op.mutable_offer() = offer_;
  UpdateOutcome out = client->HandleOperation(op, 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_THAT(out.message, ::testing::HasSubstr("already installed"));
  EXPECT_EQ(catalog_.reports().back().operation_id(), "op_1");
}

TEST_F(ClientOperationsTest, UpdateThatInstallsNamesItsOperationAndComponent) {
  auto client = NewClient(installer_.get());  // nothing installed yet
  v1::PendingOperation op = Pending("op_9", Op::UPDATE, "DC_2");
  *op.mutable_offer() = offer_;
  UpdateOutcome out = client->HandleOperation(op, 1, 1);
  EXPECT_EQ(out.result, v1::SUCCESS) << out.message;
  EXPECT_EQ(out.operation_id, "op_9");
  EXPECT_EQ(out.operation_kind, Op::UPDATE);
  EXPECT_EQ(out.dc_id, "DC_2");
  EXPECT_EQ(catalog_.reports().back().operation_id(), "op_9");
}

}  // namespace
}  // namespace updraft::device
