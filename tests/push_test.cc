// The device SDK's push side against the real platform: an IpPushListener
// holds the notifier's stream, an announcement reaches it, and the device
// verifies, acks and installs; the same notification replayed as an SMS is
// refused.
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/ip_push_listener.h"
#include "sdk/device/push_handler.h"
#include "tests/e2e_fixture.h"
#include "tests/service_process.h"

namespace updraft::e2e {
namespace {

class PushTest : public PlatformTest {
 protected:
  // Polls `pred` (bounded): the listener runs on its own thread.
  static bool Await(const std::function<bool()>& pred) {
    return PollUntil(pred, absl::Seconds(10));
  }
};

TEST_F(PushTest, AnnouncementOverIpPushInstallsAndSmsReplayIsRefused) {
  auto device = NewDevice("dev-listener");
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));

  device::PushHandler::Options p;
  p.client = &device->client();
  p.notifier_address = absl::StrCat("127.0.0.1:", platform_->notifier_server().port());
  p.security.plaintext = true;
  p.state_dir = device::testutil::NewTempDir("listener-state");
  p.clock = &platform_->clock();
  auto handler = device::PushHandler::Create(std::move(p));
  ASSERT_TRUE(handler.ok()) << handler.status();

  absl::Mutex mu;
  std::vector<std::string> received;
  device::IpPushListener::Options l;
  l.handler = handler->get();
  device::PushHandler* h = handler->get();
  l.on_notification = [&](const NotificationFields& f) {
    h->RunActiveUpgrade().IgnoreError();
    absl::MutexLock lock(&mu);
    received.push_back(f.location);
  };
  std::vector<absl::Status> ends;
  l.on_stream_end = [&](const absl::Status& end) {
    absl::MutexLock lock(&mu);
    ends.push_back(end);
  };
  l.sleep = [](absl::Duration) {};
  auto listener = device::IpPushListener::Create(std::move(l));
  ASSERT_TRUE(listener.ok()) << listener.status();
  (*listener)->Start();
  ASSERT_TRUE(Await([&] { return platform_->notifier_server().connected_devices() == 1; }))
      << (ends.empty() ? "no stream end" : ends.back().ToString());

  grpc::ClientContext ctx;
  ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
  v1::AnnounceRequest announce;
  announce.set_software_name("demo-app");
  announce.set_location(release.release_id());
  announce.set_server_address(platform_->catalog_address());
  v1::AnnounceResponse response;
  grpc::Status s = platform_->notifier().Announce(&ctx, announce, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const std::string app = device->PackageDir("demo-app") + "/app.bin";
  ASSERT_TRUE(Await([&] {
    absl::MutexLock lock(&mu);
    return !received.empty();
  }));
  (*listener)->Stop();
  EXPECT_EQ(ReadFile(app), artifact.app_bin);
  EXPECT_EQ(received[0], release.release_id());
  EXPECT_EQ(device->Count(device::ProgressEvent::Step::kReported), 1);
  EXPECT_EQ((*handler)->TrustedKeys().size(), 1u);

  // The notifier's keys are cached: a forged SMS is refused without a flow.
  Ed25519KeyPair forger = *Ed25519KeyPair::Generate();
  NotificationFields f;
  f.id = std::string(8, 'x');
  f.server_address = platform_->catalog_address();
  f.software_name = "demo-app";
  f.location = release.release_id();
  f.timestamp_unix = absl::ToUnixSeconds(platform_->clock().Now());
  f.expires_at_unix = f.timestamp_unix + 60;
  auto forged = (*handler)->HandleSmsPayload(*EncodeNotification(f, forger));
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated) << forged.status();
}

}  // namespace
}  // namespace updraft::e2e
