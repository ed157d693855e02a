#include "sdk/device/client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/file_util.h"
#include "sdk/device/mocks.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Return;
using Step = ProgressEvent::Step;

constexpr char kDevice[] = "phone-0001";
constexpr uint32_t kChunk = 512;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("client");
    key_ = *Ed25519KeyPair::Generate();
    ON_CALL(key_store_, Load()).WillByDefault(Return(absl::StatusOr<Ed25519KeyPair>(key_)));
    auth_.RegisterDevice(kDevice, key_.public_key());
    artifact_ = testutil::BuildTar({testutil::File("app.bin", std::string(3000, 'a')),
                                    testutil::File("libcodec.so", std::string(1000, 'c'))});
    download_.AddArtifact(artifact_, kChunk);
    offer_ = testutil::DemoOffer("r_1", "1.0.0", artifact_, kChunk);
    catalog_.SetOffers({offer_});
    server_ = testutil::StartInProcess({&auth_, &catalog_, &download_});
    auto installer = DirectoryInstaller::Create({.root = dir_ + "/handset"});
    ASSERT_TRUE(installer.ok());
    installer_ = *std::move(installer);
  }

  void TearDown() override { server_.server->Shutdown(); }

  Client::Options BaseOptions(Installer* installer = nullptr) {
    Client::Options o;
    o.device_id = kDevice;
    o.auth_channel = server_.channel;
    o.catalog_channel = server_.channel;
    o.download_channel_factory = [this](const std::string& target) {
      targets_.push_back(target);
      return server_.channel;
    };
    o.key_store = &key_store_;
    o.installer = installer != nullptr ? installer : installer_.get();
    o.state_dir = dir_ + "/state";
    o.attributes.set_model("UP-1");
    o.attributes.set_os_version("14");
    o.attributes.set_carrier("acme-mobile");
    o.consent = [this](const v1::Offer&) { return consent_; };
    o.on_result = [this](const UpdateOutcome& r) { results_.push_back(r); };
    o.on_progress = [this](const ProgressEvent& e) {
      steps_.push_back(e.step);
      events_.push_back(e);
    };
    o.clock = &clock_;
    o.sleep = [](absl::Duration) {};
    return o;
  }

  std::unique_ptr<Client> NewClient(Installer* installer = nullptr) {
    auto c = Client::Create(BaseOptions(installer));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  std::string Installed(const std::string& file) {
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
  bool consent_ = true;
  std::vector<std::string> targets_;
  std::vector<UpdateOutcome> results_;
  std::vector<Step> steps_;
  std::vector<ProgressEvent> events_;
};

TEST_F(ClientTest, FreshInstallEndToEnd) {
  auto client = NewClient();
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 1u);
  const UpdateOutcome& o = (*outcomes)[0];
  EXPECT_FALSE(o.nothing_new);
  EXPECT_EQ(o.result, v1::SUCCESS) << o.message;
  EXPECT_EQ(o.kind, v1::FRESH_INSTALL);
  EXPECT_THAT(o.dc_ids, ElementsAre("DC_1", "DC_2"));
  EXPECT_TRUE(o.reported) << o.report_error;
  EXPECT_EQ(o.install_location, dir_ + "/handset/demo-app");

  // Installed and configured.
  EXPECT_EQ(Installed("app.bin"), std::string(3000, 'a'));
  EXPECT_EQ(Installed("libcodec.so"), std::string(1000, 'c'));
  EXPECT_EQ(Installed(".updraft/settings.conf"), "server=prod\nvolume=7\n");

  // What the catalog saw: an empty inventory with attributes, then the report.
  auto checks = catalog_.checks();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].inventory_size(), 0);
  EXPECT_EQ(checks[0].attributes().model(), "UP-1");
  EXPECT_EQ(checks[0].attributes().carrier(), "acme-mobile");
  auto reports = catalog_.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].result(), v1::SUCCESS);
  EXPECT_EQ(reports[0].release_id(), "r_1");
  EXPECT_EQ(reports[0].report_id(), o.report_id);
  EXPECT_EQ(reports[0].report_id().size(), 32u);
  ASSERT_EQ(reports[0].deployed_size(), 2);
  EXPECT_EQ(reports[0].deployed(0).dc_id(), "DC_1");
  EXPECT_EQ(reports[0].deployed(1).dc_id(), "DC_2");
  for (const auto& c : reports[0].deployed()) {
    EXPECT_EQ(c.release_id(), "r_1");
    EXPECT_EQ(c.author(), "acme");
    EXPECT_EQ(c.version(), "1.0.0");
    EXPECT_EQ(c.location(), v1::DEPLOYED);
    EXPECT_EQ(c.state(), v1::ACTIVE);
  }
  EXPECT_THAT(targets_, ElementsAre("download.test:443"));

  // The user was told, and saw every step in order.
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].result, v1::SUCCESS);
  std::vector<Step> distinct;
  for (Step s : steps_) {
    if (distinct.empty() || distinct.back() != s) distinct.push_back(s);
  }
  EXPECT_THAT(distinct,
              ElementsAre(Step::kLoggedIn, Step::kFoundUpdate, Step::kConsented, Step::kDownloading,
                          Step::kVerified, Step::kInstalled, Step::kConfigured,
                          Step::kComponentsRegistered, Step::kReported));
  EXPECT_EQ(events_[0].token_lifetime, absl::Minutes(15));
  const int chunks = offer_.release().artifact().chunk_sha256_size();
  EXPECT_EQ(std::count(steps_.begin(), steps_.end(), Step::kDownloading), chunks);

  // Local state: Deployed only, nothing pending, no leftovers.
  v1::DeviceLocalState state = client->LocalState();
  EXPECT_EQ(state.deployed_size(), 2);
  EXPECT_EQ(state.delivered_size(), 0);
  EXPECT_EQ(state.downloads_size(), 0);
  EXPECT_EQ(state.pending_reports_size(), 0);
  EXPECT_FALSE(PathExists(dir_ + "/state/downloads/" + offer_.release().artifact().sha256()));
}

TEST_F(ClientTest, SecondRunSendsInventoryAndFindsNothingNew) {
  ASSERT_TRUE(NewClient()->RunActiveUpgrade().ok());
  results_.clear();
  auto client = NewClient();  // a restart: inventory comes from the state file
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_TRUE((*outcomes)[0].nothing_new);
  EXPECT_THAT((*outcomes)[0].message, HasSubstr("nothing new"));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_TRUE(results_[0].nothing_new);
  auto checks = catalog_.checks();
  ASSERT_EQ(checks.size(), 2u);
  ASSERT_EQ(checks[1].inventory_size(), 2);
  EXPECT_EQ(checks[1].inventory(0).dc_id(), "DC_1");
  EXPECT_EQ(checks[1].inventory(0).location(), v1::DEPLOYED);
  EXPECT_EQ(catalog_.reports().size(), 1u);  // "nothing new" is not reported
}

TEST_F(ClientTest, NothingNew) {
  catalog_.SetOffers({});
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_TRUE((*outcomes)[0].nothing_new);
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_TRUE(catalog_.reports().empty());
  EXPECT_TRUE(download_.requested_offsets().empty());
}

TEST_F(ClientTest, OverwriteReplacesComponents) {
  ASSERT_TRUE(NewClient()->RunActiveUpgrade().ok());
  std::string v2 = testutil::BuildTar({testutil::File("app.bin", "version two")});
  download_.AddArtifact(v2, kChunk);
  catalog_.SetOffers({testutil::DemoOffer("r_2", "1.1.0", v2, kChunk, v1::OVERWRITE, "DC_")});
  auto client = NewClient();
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_EQ((*outcomes)[0].result, v1::SUCCESS) << (*outcomes)[0].message;
  EXPECT_EQ((*outcomes)[0].kind, v1::OVERWRITE);
  EXPECT_EQ(Installed("app.bin"), "version two");
  EXPECT_EQ(Installed("libcodec.so"), "<missing>");
  v1::DeviceLocalState state = client->LocalState();
  ASSERT_EQ(state.deployed_size(), 2);
  for (const auto& c : state.deployed()) {
    EXPECT_EQ(c.release_id(), "r_2");
    EXPECT_EQ(c.version(), "1.1.0");
  }
}

TEST_F(ClientTest, ConsentDeclinedIsReportedAsUserCancelled) {
  consent_ = false;
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_EQ((*outcomes)[0].result, v1::USER_CANCELLED);
  EXPECT_THAT((*outcomes)[0].message, HasSubstr("declined"));
  auto reports = catalog_.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].result(), v1::USER_CANCELLED);
  EXPECT_EQ(static_cast<int>(reports[0].result()), 1401);
  EXPECT_EQ(reports[0].release_id(), "r_1");
  EXPECT_TRUE(download_.requested_offsets().empty());
  EXPECT_EQ(Installed("app.bin"), "<missing>");
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].result, v1::USER_CANCELLED);
}

TEST_F(ClientTest, TamperedChunkIsReportedAndNothingInstalled) {
  download_.TamperChunk(2);
  auto client = NewClient();
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  ASSERT_EQ(outcomes->size(), 1u);
  const UpdateOutcome& o = (*outcomes)[0];
  EXPECT_EQ(o.result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(o.message, absl::StrCat("chunk 2 of ", offer_.release().artifact().sha256(),
                                    " does not match the release manifest"));
  auto reports = catalog_.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].result(), v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(reports[0].message(), o.message);
  EXPECT_EQ(reports[0].deployed_size(), 0);
  EXPECT_EQ(Installed("app.bin"), "<missing>");
  v1::DeviceLocalState state = client->LocalState();
  EXPECT_EQ(state.deployed_size(), 0);
  EXPECT_EQ(state.delivered_size(), 0);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].result, v1::PACKAGE_VALIDATION_FAILED);
}

TEST_F(ClientTest, LoginWithWrongKeyIsAClearUnauthenticated) {
  auth_.RegisterDevice(kDevice, Ed25519KeyPair::Generate()->public_key());
  auto client = NewClient();
  absl::Status login = client->Login();
  EXPECT_EQ(login.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(login.message(), HasSubstr("auth rejected the login of device phone-0001"));
  EXPECT_THAT(login.message(), HasSubstr("signature does not verify"));
  EXPECT_THAT(login.message(), HasSubstr(KeyIdFor(key_.public_key())));
  auto outcomes = client->RunActiveUpgrade();
  EXPECT_EQ(outcomes.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(catalog_.checks().empty());
  EXPECT_TRUE(results_.empty());
}

TEST_F(ClientTest, UnknownDeviceFailsLogin) {
  Client::Options o = BaseOptions();
  o.device_id = "phone-9999";
  auto client = Client::Create(std::move(o));
  ASSERT_TRUE(client.ok());
  absl::Status login = (*client)->Login();
  EXPECT_EQ(login.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(login.message(), HasSubstr("phone-9999"));
}

TEST_F(ClientTest, TokenIsCachedRenewedAndRefreshedOnUnauthenticated) {
  catalog_.SetOffers({});
  auto client = NewClient();
  ASSERT_TRUE(client->RunActiveUpgrade().ok());
  ASSERT_TRUE(client->RunActiveUpgrade().ok());
  EXPECT_EQ(auth_.logins(), 1);
  clock_.Advance(absl::Minutes(14) + absl::Seconds(30));  // inside the renewal margin
  ASSERT_TRUE(client->RunActiveUpgrade().ok());
  EXPECT_EQ(auth_.logins(), 2);
  auth_.RevokeAllTokens();  // the catalog now says UNAUTHENTICATED once
  ASSERT_TRUE(client->RunActiveUpgrade().ok());
  EXPECT_EQ(auth_.logins(), 3);
  EXPECT_EQ(catalog_.checks().size(), 4u);
}

TEST_F(ClientTest, UnsentReportIsResentWithTheSameIdAfterRestart) {
  catalog_.FailNextReports(1);
  std::string report_id;
  {
    auto outcomes = NewClient()->RunActiveUpgrade();
    ASSERT_TRUE(outcomes.ok());
    const UpdateOutcome& o = (*outcomes)[0];
    EXPECT_EQ(o.result, v1::SUCCESS);
    EXPECT_FALSE(o.reported);
    EXPECT_THAT(o.report_error, HasSubstr("re-sent"));
    report_id = o.report_id;
  }
  EXPECT_TRUE(catalog_.reports().empty());
  steps_.clear();
  auto client = NewClient();
  EXPECT_EQ(client->LocalState().pending_reports_size(), 1);
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_TRUE((*outcomes)[0].nothing_new);
  auto reports = catalog_.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report_id(), report_id);
  EXPECT_EQ(reports[0].result(), v1::SUCCESS);
  EXPECT_EQ(reports[0].deployed_size(), 2);
  EXPECT_EQ(client->LocalState().pending_reports_size(), 0);
  EXPECT_EQ(events_.back().step, Step::kReported);
  EXPECT_NE(
      std::find_if(events_.begin(), events_.end(), [](const ProgressEvent& e) { return e.resent; }),
      events_.end());
}

TEST_F(ClientTest, DownloadServerUnavailableIs1501) {
  download_.DropAfter(0, 100);
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].result, v1::DOWNLOAD_SERVER_UNAVAILABLE);
  ASSERT_EQ(catalog_.reports().size(), 1u);
  EXPECT_EQ(static_cast<int>(catalog_.reports()[0].result()), 1501);
}

TEST_F(ClientTest, MissingArtifactOnServerIs1500) {
  v1::Offer offer = testutil::DemoOffer("r_9", "2.0.0", "not uploaded", kChunk);
  catalog_.SetOffers({offer});
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].result, v1::DOWNLOAD_SERVER_ERROR);
  EXPECT_THAT((*outcomes)[0].message, HasSubstr("not found"));
}

TEST_F(ClientTest, InstallFailureIsReportedAndDeliveredCleared) {
  MockInstaller installer;
  EXPECT_CALL(installer, Install("demo-app", _, _))
      .WillOnce(Return(absl::StatusOr<InstallResult>(absl::InternalError("disk on fire"))));
  auto client = NewClient(&installer);
  auto outcomes = client->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].result, v1::INSTALL_FAILED);
  EXPECT_EQ((*outcomes)[0].message, "disk on fire");
  EXPECT_EQ(catalog_.reports()[0].result(), v1::INSTALL_FAILED);
  EXPECT_EQ(client->LocalState().delivered_size(), 0);
  EXPECT_EQ(client->LocalState().deployed_size(), 0);
}

TEST_F(ClientTest, BadPackageIs1407) {
  // The entry name is not even UTF-8: the report must still be acceptable.
  std::string evil = testutil::BuildTar({testutil::File("../../esc\xff\n", "x")});
  download_.AddArtifact(evil, kChunk);
  catalog_.SetOffers({testutil::DemoOffer("r_2", "1.0.0", evil, kChunk)});
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_THAT((*outcomes)[0].message, HasSubstr("\"..\""));
  EXPECT_FALSE(PathExists(dir_ + "/esc\xff\n"));
  ASSERT_EQ(catalog_.reports().size(), 1u);
  const std::string reported = catalog_.reports()[0].message();
  EXPECT_THAT(reported, HasSubstr("esc??"));
  for (char c : reported) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << reported;
}

TEST_F(ClientTest, InvalidOfferIsReportedWithoutDownloading) {
  v1::Offer offer = offer_;
  offer.mutable_release()->set_version("not-semver");
  catalog_.SetOffers({offer});
  auto outcomes = NewClient()->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_TRUE(download_.requested_offsets().empty());
  EXPECT_EQ(catalog_.reports().size(), 1u);
}

TEST_F(ClientTest, CreateValidatesOptions) {
  Client::Options o = BaseOptions();
  o.device_id.clear();
  EXPECT_EQ(Client::Create(std::move(o)).status().code(), absl::StatusCode::kInvalidArgument);
  o = BaseOptions();
  o.consent = nullptr;
  auto c = Client::Create(std::move(o));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("consent"));
  o = BaseOptions();
  o.installer = nullptr;
  EXPECT_EQ(Client::Create(std::move(o)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, CorruptStateFileIsDataLoss) {
  ASSERT_TRUE(MakeDirectories(dir_ + "/state").ok());
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/state/device_state.pb", "\x01\x02garbage").ok());
  auto c = Client::Create(BaseOptions());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace updraft::device
