// Runs the device_sim binary against fake auth, catalog and download
// services listening on 127.0.0.1 (port 0) and checks what a person sees and
// the exit codes.

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "common/tls.h"
#include "common/tls_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/fake_notifier.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/test_util.h"
#include "tools/device_sim/progress_printer.h"

namespace updraft::device_sim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kChunk = 1024;

struct RunResult {
  int exit_code;
  std::string output;
};

RunResult RunSim(const std::string& args) {
  std::string cmd = absl::StrCat("tools/device_sim/device_sim ", args, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class DeviceSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = device::testutil::NewTempDir("sim");
    key_file_ = dir_ + "/phone.key";
    RunResult key = RunSim(absl::StrCat("--key_file=", key_file_, " --print_public_key"));
    ASSERT_EQ(key.exit_code, 0) << key.output;
    std::string raw;
    ASSERT_TRUE(absl::WebSafeBase64Unescape(absl::StripAsciiWhitespace(key.output), &raw));
    ASSERT_EQ(raw.size(), 32u);
    auth_.RegisterDevice("phone-0001", raw);

    auto certs = TestCertificates::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(*certs);
    auto tls = ServerCredentialsFrom(certs_->Server("catalog", /*require_client_cert=*/true));
    ASSERT_TRUE(tls.ok()) << tls.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.AddListeningPort("127.0.0.1:0", *tls, &tls_port_);
    builder.RegisterService(&auth_);
    builder.RegisterService(&catalog_);
    builder.RegisterService(&download_);
    builder.RegisterService(&notifier_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);

    artifact_ =
        device::testutil::BuildTar({device::testutil::File("app.bin", "demo app"),
                                    device::testutil::File("libcodec.so", std::string(9000, 'c'))});
    download_.AddArtifact(artifact_, kChunk);
    v1::Offer offer = device::testutil::DemoOffer("r_1", "1.0.0", artifact_, kChunk);
    offer.set_download_target(absl::StrCat("127.0.0.1:", port_));
    catalog_.SetOffers({offer});
  }

  void TearDown() override { server_->Shutdown(); }

  RunResult Sim(const std::string& extra = "") {
    std::string address = absl::StrCat("127.0.0.1:", port_);
    return RunSim(absl::StrCat("--plaintext ", Common(address), extra));
  }

  // Over the mutual TLS port: --tls_* flags in `tls`.
  RunResult TlsSim(const std::string& tls) {
    std::string address = absl::StrCat("127.0.0.1:", tls_port_);
    return RunSim(absl::StrCat(Common(address), " --download_address=", address, " ", tls));
  }

  std::string Common(const std::string& address) {
    return absl::StrCat("--device_id=phone-0001 --key_file=", key_file_,
                        " --auth_address=", address, " --catalog_address=", address,
                        " --state_dir=", dir_, "/state --install_dir=", dir_,
                        "/apps --model=UP-1 --carrier=acme ");
  }

  std::string dir_, key_file_, artifact_;
  RealClock clock_;
  device::testutil::FakeAuthService auth_{&clock_, absl::Minutes(15)};
  device::testutil::FakeCatalogService catalog_{&auth_};
  device::testutil::FakeDownloadService download_{&auth_};
  device::testutil::FakeNotifierService notifier_{&auth_};
  Ed25519KeyPair notification_key_ = *Ed25519KeyPair::Generate();
  std::optional<TestCertificates> certs_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int tls_port_ = 0;
};

TEST_F(DeviceSimTest, InstallsThenFindsNothingNew) {
  RunResult r = Sim();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[device phone-0001] logged in (token valid 15 min)"));
  const size_t chunks = (artifact_.size() + kChunk - 1) / kChunk;
  const std::string size = ProgressPrinter::FormatSize(artifact_.size());
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("[device phone-0001] found update: demo-app 1.0.0 "
                                               "(fresh install), ",
                                               chunks, " chunks, ", size)));
  EXPECT_THAT(r.output, HasSubstr("[device phone-0001] user consented"));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("[device phone-0001] downloading ", chunks, "/",
                                               chunks, " chunks (", size, ")")));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("[device phone-0001] installed demo-app 1.0.0 into ",
                                               dir_, "/apps/demo-app")));
  EXPECT_THAT(r.output, HasSubstr("[device phone-0001] components DC_1 and DC_2 registered"));
  EXPECT_THAT(r.output, HasSubstr("[device phone-0001] result 1200 (success) reported to server"));
  EXPECT_EQ(device::testutil::ReadOrMissing(dir_ + "/apps/demo-app/app.bin"), "demo app");
  ASSERT_EQ(catalog_.checks().size(), 1u);
  EXPECT_EQ(catalog_.checks()[0].attributes().model(), "UP-1");

  RunResult again = Sim();
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("[device phone-0001] nothing new"));
  EXPECT_THAT(again.output, Not(HasSubstr("downloading")));
}

TEST_F(DeviceSimTest, DeclinedUpdateExitsOne) {
  RunResult r = Sim("--consent=no");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("user declined demo-app 1.0.0"));
  EXPECT_THAT(r.output, HasSubstr("result 1401 (user cancelled) reported to server"));
}

TEST_F(DeviceSimTest, TamperedDownloadExitsOne) {
  download_.TamperChunk(1);
  RunResult r = Sim();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("failed: result 1407 (package validation failed): chunk 1 of"));
  EXPECT_THAT(r.output, HasSubstr("result 1407 (package validation failed) reported to server"));
  EXPECT_EQ(device::testutil::ReadOrMissing(dir_ + "/apps/demo-app/app.bin"), "<missing>");
}

TEST_F(DeviceSimTest, UnregisteredKeyExitsTwo) {
  auth_.RegisterDevice("phone-0001", std::string(32, '\x01'));
  RunResult r = Sim();
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("auth rejected the login of device phone-0001"));
}

TEST_F(DeviceSimTest, BadFlagsExitTwo) {
  EXPECT_EQ(Sim("--consent=maybe").exit_code, 2);
  EXPECT_EQ(Sim("--no_such_flag=1").exit_code, 2);
  EXPECT_EQ(RunSim("--device_id=x").exit_code, 2);  // no --key_file
  EXPECT_EQ(RunSim(absl::StrCat("--key_file=", key_file_, " --print_public_key=maybe")).exit_code,
            2);
}

TEST_F(DeviceSimTest, UnreachableServicesExitTwo) {
  RunResult r =
      RunSim(absl::StrCat("--device_id=phone-0001 --key_file=", key_file_,
                          " --auth_address=127.0.0.1:1 --catalog_address=127.0.0.1:1",
                          " --state_dir=", dir_, "/s2 --install_dir=", dir_, "/a2 --plaintext"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("running?"));
}

TEST_F(DeviceSimTest, InstallsOverMutualTls) {
  RunResult r = TlsSim(absl::StrCat("--tls_ca=", certs_->Path("ca.pem"),
                                    " --tls_cert=", certs_->Path("device.pem"),
                                    " --tls_key=", certs_->Path("device.key")));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("result 1200 (success) reported to server"));
}

TEST_F(DeviceSimTest, TlsNeedsTheCaAndTheDeviceCertificate) {
  RunResult r = TlsSim("");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--tls_ca is required (or --plaintext"));
  r = TlsSim("--plaintext");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = TlsSim(absl::StrCat("--tls_ca=", certs_->Path("ca.pem")));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("signed by --tls_ca?"));
  r = TlsSim(absl::StrCat("--plaintext --tls_ca=", certs_->Path("ca.pem")));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("exclude each other"));
  r = TlsSim("--tls_ca=/no/such/ca.pem");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("/no/such/ca.pem"));
  EXPECT_EQ(catalog_.checks().size(), 0u);
}

// A signed IP Push notification for demo-app, valid for an hour from now.
v1::Notification Announcement(char id_byte, const Ed25519KeyPair& key) {
  NotificationFields f;
  f.id = std::string(kNotificationIdSize, id_byte);
  f.server_address = "catalog.example:7402";
  f.software_name = "demo-app";
  f.location = "r_1";
  f.timestamp_unix = absl::ToUnixSeconds(absl::Now());
  f.expires_at_unix = f.timestamp_unix + 3600;
  v1::Notification n;
  n.set_notification_id(NotificationIdHex(f.id));
  n.set_signed_(*EncodeNotification(f, key));
  return n;
}

TEST_F(DeviceSimTest, WaitForPushInstallsWhatTheAnnouncementLeadsTo) {
  notifier_.SetKeys({notification_key_.public_key()});
  notifier_.AddStream({Announcement('a', notification_key_)});
  RunResult r = Sim(absl::StrCat("--notifier_address=127.0.0.1:", port_, " --wait_for_push=30s"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("IP Push: announcement of demo-app"));
  EXPECT_THAT(r.output, ::testing::HasSubstr("result 1200"));
  EXPECT_THAT(notifier_.acks(), ::testing::ElementsAre(NotificationIdHex(std::string(8, 'a'))));
}

TEST_F(DeviceSimTest, WaitForPushRefusesAForgedAnnouncementAndTimesOut) {
  notifier_.SetKeys({notification_key_.public_key()});
  notifier_.AddStream({Announcement('f', *Ed25519KeyPair::Generate())});
  RunResult r = Sim(absl::StrCat("--notifier_address=127.0.0.1:", port_, " --wait_for_push=2s"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, ::testing::HasSubstr("notification refused"));
  EXPECT_THAT(r.output, ::testing::Not(::testing::HasSubstr("result 1200")));
  EXPECT_TRUE(notifier_.acks().empty());
}

}  // namespace
}  // namespace updraft::device_sim
