#ifndef UPDRAFT_SDK_DEVICE_PUSH_TEST_FIXTURE_H_
#define UPDRAFT_SDK_DEVICE_PUSH_TEST_FIXTURE_H_

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/fake_notifier.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/mocks.h"
#include "sdk/device/push_handler.h"
#include "sdk/device/test_util.h"

namespace updraft::device::testutil {

// A device (Client + PushHandler) against in-process fake auth, catalog,
// download and notifier services that offer one demo release, with a
// notifier signing key.
class PushTest : public ::testing::Test {
 protected:
  static constexpr char kDevice[] = "phone-push-1";
  static constexpr uint32_t kChunk = 512;

  void SetUp() override {
    dir_ = NewTempDir("push");
    key_ = *Ed25519KeyPair::Generate();
    signing_ = *Ed25519KeyPair::Generate();
    ON_CALL(key_store_, Load())
        .WillByDefault(::testing::Return(absl::StatusOr<Ed25519KeyPair>(key_)));
    auth_.RegisterDevice(kDevice, key_.public_key());
    artifact_ = BuildTar({File("app.bin", std::string(3000, 'a'))});
    download_.AddArtifact(artifact_, kChunk);
    catalog_.SetOffers({DemoOffer("r_1", "1.0.0", artifact_, kChunk)});
    notifier_.SetKeys({signing_.public_key()});
    server_ = StartInProcess({&auth_, &catalog_, &download_, &notifier_});
    installer_ = *DirectoryInstaller::Create({.root = dir_ + "/handset"});
    Client::Options o;
    o.device_id = kDevice;
    o.auth_channel = server_.channel;
    o.catalog_channel = server_.channel;
    o.download_channel_factory = [this](const std::string&) { return server_.channel; };
    o.key_store = &key_store_;
    o.installer = installer_.get();
    o.state_dir = dir_ + "/state";
    o.consent = [](const v1::Offer&) { return true; };
    o.clock = &clock_;
    o.sleep = [](absl::Duration) {};
    client_ = *Client::Create(std::move(o));
    handler_ = NewHandler();
  }

  void TearDown() override {
    notifier_.Shutdown();
    server_.server->Shutdown();
  }

  std::unique_ptr<PushHandler> NewHandler() {
    PushHandler::Options p;
    p.client = client_.get();
    p.notifier_channel = server_.channel;
    p.state_dir = dir_ + "/state";
    p.clock = &clock_;
    auto h = PushHandler::Create(std::move(p));
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *std::move(h) : nullptr;
  }

  NotificationFields Fields(char id_byte) {
    NotificationFields f;
    f.id = std::string(kNotificationIdSize, id_byte);
    f.server_address = "catalog.example:7402";
    f.software_name = "demo-app";
    f.location = "r_1";
    f.timestamp_unix = absl::ToUnixSeconds(clock_.Now());
    f.expires_at_unix = f.timestamp_unix + 3600;
    return f;
  }
  std::string Signed(const NotificationFields& f) { return *EncodeNotification(f, signing_); }
  std::string Signed(char id_byte) { return Signed(Fields(id_byte)); }
  v1::Notification IpNotification(char id_byte) {
    v1::Notification n;
    n.set_notification_id(NotificationIdHex(std::string(kNotificationIdSize, id_byte)));
    n.set_signed_(Signed(id_byte));
    return n;
  }
  std::string Installed() { return ReadOrMissing(dir_ + "/handset/demo-app/app.bin"); }

  std::string dir_;
  Ed25519KeyPair key_ = *Ed25519KeyPair::Generate();
  Ed25519KeyPair signing_ = *Ed25519KeyPair::Generate();
  std::string artifact_;
  ::testing::NiceMock<MockKeyStore> key_store_;
  FakeClock clock_;
  FakeAuthService auth_{&clock_, absl::Minutes(15)};
  FakeCatalogService catalog_{&auth_};
  FakeDownloadService download_{&auth_};
  FakeNotifierService notifier_{&auth_};
  InProcessServer server_;
  std::unique_ptr<DirectoryInstaller> installer_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<PushHandler> handler_;
};

}  // namespace updraft::device::testutil

#endif  // UPDRAFT_SDK_DEVICE_PUSH_TEST_FIXTURE_H_
