#include "sdk/device/ip_push_listener.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/push_test_fixture.h"

namespace updraft::device {
namespace {

using ::testing::ElementsAre;

class IpPushListenerTest : public testutil::PushTest {
 protected:
  std::unique_ptr<IpPushListener> NewListener(bool run_flow = false) {
    IpPushListener::Options o;
    o.handler = handler_.get();
    if (!run_flow) {
      o.on_notification = [this](const NotificationFields& f) {
        absl::MutexLock lock(&mu_);
        received_.push_back(f.location);
      };
    }
    o.on_stream_end = [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      ends_.push_back(s);
    };
    o.sleep = [this](absl::Duration d) {
      absl::MutexLock lock(&mu_);
      waits_.push_back(d);
    };
    o.jitter = 0;
    auto l = IpPushListener::Create(std::move(o));
    EXPECT_TRUE(l.ok()) << l.status();
    return *std::move(l);
  }
  // Waits (bounded, on the listener thread's progress) until `pred` holds.
  bool Await(const std::function<bool()>& pred) {
    for (int i = 0; i < 500 && !pred(); ++i) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](bool* b) { return *b; }, &never_),
                           absl::Milliseconds(10));
    }
    return pred();
  }

  absl::Mutex mu_;
  bool never_ = false;
  std::vector<std::string> received_;
  std::vector<absl::Status> ends_;
  std::vector<absl::Duration> waits_;
};

TEST_F(IpPushListenerTest, NotificationIsVerifiedAckedAndHandedOver) {
  notifier_.AddStream({IpNotification('a')});
  auto listener = NewListener();
  listener->Start();
  ASSERT_TRUE(Await([&] { return notifier_.acks().size() == 1; }));
  ASSERT_TRUE(Await([&] {
    absl::MutexLock lock(&mu_);
    return received_.size() == 1;
  }));
  listener->Stop();
  EXPECT_THAT(notifier_.acks(), ElementsAre(NotificationIdHex(std::string(8, 'a'))));
  EXPECT_EQ(received_[0], "r_1");
  EXPECT_EQ(listener->streams_opened(), 1);
}

TEST_F(IpPushListenerTest, DefaultCallbackInstalls) {
  notifier_.AddStream({IpNotification('b')});
  auto listener = NewListener(/*run_flow=*/true);
  listener->Start();
  ASSERT_TRUE(Await([&] { return Installed() == std::string(3000, 'a'); }));
  listener->Stop();
  EXPECT_EQ(catalog_.reports().size(), 1u);
}

TEST_F(IpPushListenerTest, ReconnectsWithBackoffAfterTheStreamEnds) {
  notifier_.AddStream({IpNotification('c')});
  notifier_.AddStream({});
  notifier_.AddStream({IpNotification('c'), IpNotification('d')});  // 'c' delivered again
  auto listener = NewListener();
  listener->Start();
  ASSERT_TRUE(Await([&] {
    absl::MutexLock lock(&mu_);
    return received_.size() == 2;
  }));
  ASSERT_TRUE(Await([&] { return notifier_.acks().size() == 3; }));
  listener->Stop();
  EXPECT_EQ(notifier_.subscribes(), 3);
  // The redelivered 'c' is acknowledged again but not handed over twice.
  EXPECT_THAT(notifier_.acks(), ElementsAre(NotificationIdHex(std::string(8, 'c')),
                                            NotificationIdHex(std::string(8, 'c')),
                                            NotificationIdHex(std::string(8, 'd'))));
  // First stream delivered (backoff reset to 1 s), the empty one grows it x1.6.
  EXPECT_THAT(waits_, ElementsAre(absl::Seconds(1), absl::Milliseconds(1600)));
  EXPECT_EQ(ends_.size(), 2u);
  EXPECT_EQ(ends_[0].code(), absl::StatusCode::kUnavailable);
}

TEST_F(IpPushListenerTest, ForgedNotificationIsNotAcked) {
  v1::Notification forged = IpNotification('e');
  std::string bytes = forged.signed_();
  bytes[bytes.size() - 1] ^= 1;
  forged.set_signed_(bytes);
  notifier_.AddStream({forged, IpNotification('f')});
  auto listener = NewListener();
  listener->Start();
  ASSERT_TRUE(Await([&] { return notifier_.acks().size() == 1; }));
  listener->Stop();
  EXPECT_THAT(notifier_.acks(), ElementsAre(NotificationIdHex(std::string(8, 'f'))));
  EXPECT_EQ(download_.chunks_sent(), 0);
}

TEST_F(IpPushListenerTest, StopsCleanlyWhileHoldingTheStreamAndWithoutStart) {
  auto idle = NewListener();
  idle->Stop();
  auto listener = NewListener();
  listener->Start();
  ASSERT_TRUE(Await([&] { return notifier_.subscribes() == 1; }));
  listener->Stop();
  listener->Stop();
  EXPECT_TRUE(waits_.empty());
}

TEST_F(IpPushListenerTest, CreateValidatesOptions) {
  IpPushListener::Options o;
  EXPECT_EQ(IpPushListener::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.handler = handler_.get();
  o.initial_backoff = absl::ZeroDuration();
  EXPECT_EQ(IpPushListener::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.initial_backoff = absl::Seconds(1);
  o.jitter = 2;
  EXPECT_EQ(IpPushListener::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.jitter = 0.2;
  o.multiplier = 0.5;  // would shrink the waits: a reconnect storm
  EXPECT_EQ(IpPushListener::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::device
