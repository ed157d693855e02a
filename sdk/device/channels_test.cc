#include "sdk/device/channels.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/tls.h"
#include "common/tls_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/file_key_store.h"
#include "sdk/device/test_util.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::device {
namespace {

using ::testing::HasSubstr;

constexpr char kDevice[] = "phone-0001";
constexpr uint32_t kChunk = 512;

// A notifier whose GetNotificationKeys never answers (until cancelled).
class HangingNotifier final : public v1::Notifier::Service {
 public:
  grpc::Status GetNotificationKeys(grpc::ServerContext* context,
                                   const v1::GetNotificationKeysRequest*,
                                   v1::GetNotificationKeysResponse*) override {
    absl::Notification never;
    while (!context->IsCancelled()) never.WaitForNotificationWithTimeout(absl::Milliseconds(10));
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
};

// SetLeanChannelArguments uses the minimal stack, which turns client
// deadline checks off unless asked for: every SDK channel must still end a
// call the server never answers at its deadline.
TEST(LeanChannelTest, DeadlinesStillApply) {
  HangingNotifier hanging;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&hanging);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  ChannelSecurity plaintext;
  plaintext.plaintext = true;
  grpc::ChannelArguments own;
  own.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::vector<std::shared_ptr<grpc::Channel>> channels = {
      *MakeServiceChannel(address, plaintext), *MakeStreamChannel(address, plaintext),
      *MakeStreamChannel(address, plaintext, 300000, own)};
  for (const auto& channel : channels) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    v1::GetNotificationKeysResponse keys;
    grpc::Status s = v1::Notifier::NewStub(channel)->GetNotificationKeys(
        &ctx, v1::GetNotificationKeysRequest(), &keys);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  }
  server->Shutdown(std::chrono::system_clock::now());
}

TEST(ChannelSecurityTest, NeedsACaOrExplicitPlaintext) {
  absl::Status s = ValidateChannelSecurity(ChannelSecurity());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ca_file is required"));
  EXPECT_EQ(MakeServiceChannel("127.0.0.1:1", ChannelSecurity()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DownloadChannelFactory(ChannelSecurity())("127.0.0.1:1"), nullptr);

  ChannelSecurity plaintext;
  plaintext.plaintext = true;
  EXPECT_TRUE(ValidateChannelSecurity(plaintext).ok());
  EXPECT_NE(DownloadChannelFactory(plaintext)("127.0.0.1:1"), nullptr);
  EXPECT_EQ(MakeServiceChannel("", plaintext).status().code(), absl::StatusCode::kInvalidArgument);
  plaintext.ca_file = "/some/ca.pem";
  EXPECT_EQ(ValidateChannelSecurity(plaintext).code(), absl::StatusCode::kInvalidArgument);

  ChannelSecurity missing;
  missing.ca_file = "/no/such/ca.pem";
  s = ValidateChannelSecurity(missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/no/such/ca.pem"));
}

// The device flow against fake services behind a TLS listener, the client
// dialling them itself from addresses.
class TlsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = TestCertificates::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(*certs);
    dir_ = testutil::NewTempDir("channels");
    artifact_ = testutil::BuildTar({testutil::File("app.bin", std::string(3000, 'a')),
                                    testutil::File("libcodec.so", std::string(1000, 'c'))});
    download_.AddArtifact(artifact_, kChunk);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  void Serve(const TlsOptions& tls) {
    auto creds = ServerCredentialsFrom(tls);
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port);
    for (grpc::Service* s : std::vector<grpc::Service*>{&auth_, &catalog_, &download_}) {
      builder.RegisterService(s);
    }
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
    v1::Offer offer = testutil::DemoOffer("r_1", "1.0.0", artifact_, kChunk);
    offer.set_download_target(address_);
    catalog_.SetOffers({offer});
  }

  absl::StatusOr<std::unique_ptr<Client>> NewClient(ChannelSecurity security) {
    auto installer = DirectoryInstaller::Create({.root = dir_ + "/handset"});
    if (!installer.ok()) return installer.status();
    installer_ = *std::move(installer);
    Client::Options o;
    o.device_id = kDevice;
    o.auth_address = address_;
    o.catalog_address = address_;
    o.security = std::move(security);
    o.key_store = &keys_;
    o.installer = installer_.get();
    o.state_dir = dir_ + "/state";
    o.consent = [](const v1::Offer&) { return true; };
    o.clock = &clock_;
    o.sleep = [](absl::Duration) {};
    auto client = Client::Create(std::move(o));
    if (client.ok()) auth_.RegisterDevice(kDevice, (*client)->public_key());
    return client;
  }

  FakeClock clock_;
  testutil::FakeAuthService auth_{&clock_, absl::Minutes(15)};
  testutil::FakeCatalogService catalog_{&auth_};
  testutil::FakeDownloadService download_{&auth_};
  std::optional<TestCertificates> certs_;
  std::string dir_;
  std::string artifact_;
  FileKeyStore keys_{testutil::NewTempDir("channels-key") + "/device.key"};
  std::unique_ptr<DirectoryInstaller> installer_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(TlsClientTest, ActiveUpgradeOverTlsWithTheCa) {
  Serve(certs_->Server("catalog"));
  ChannelSecurity security;
  security.ca_file = certs_->Path("ca.pem");
  auto client = NewClient(security);
  ASSERT_TRUE(client.ok()) << client.status();
  auto outcomes = (*client)->RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_TRUE((*outcomes)[0].success()) << (*outcomes)[0].message;
  EXPECT_TRUE((*outcomes)[0].reported);
}

TEST_F(TlsClientTest, DeviceCertificateForMutualTls) {
  Serve(certs_->Server("catalog", /*require_client_cert=*/true));
  ChannelSecurity security;
  security.ca_file = certs_->Path("ca.pem");
  auto no_cert = NewClient(security);
  ASSERT_TRUE(no_cert.ok()) << no_cert.status();
  EXPECT_EQ((*no_cert)->Login().code(), absl::StatusCode::kUnavailable);

  security.client_cert_file = certs_->Path("device.pem");
  security.client_key_file = certs_->Path("device.key");
  auto client = NewClient(security);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status login = (*client)->Login();
  EXPECT_TRUE(login.ok()) << login;
}

TEST_F(TlsClientTest, WrongCaOrPlaintextCannotReachATlsServer) {
  Serve(certs_->Server("catalog"));
  auto other = TestCertificates::Create("other-ca");
  ASSERT_TRUE(other.ok()) << other.status();
  ChannelSecurity wrong;
  wrong.ca_file = other->Path("ca.pem");
  auto client = NewClient(wrong);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->RunActiveUpgrade().status().code(), absl::StatusCode::kUnavailable);

  ChannelSecurity plaintext;
  plaintext.plaintext = true;
  client = NewClient(plaintext);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->Login().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsClientTest, CreateRefusesAddressesWithoutCa) {
  Serve(certs_->Server("catalog"));
  auto client = NewClient(ChannelSecurity());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("security"));
  EXPECT_THAT(client.status().message(), HasSubstr("ca_file"));
}

}  // namespace
}  // namespace updraft::device
