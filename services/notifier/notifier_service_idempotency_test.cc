// Announce with an idempotency key (notifier.proto AnnounceRequest field 6),
// over the in-memory outbox: a device that already holds an entry with the
// key gets no second notification and keeps its notification ID; other
// devices are queued as usual; an empty key keeps every call new.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/notifier/fake_outbox_store.h"
#include "services/notifier/mocks.h"
#include "services/notifier/notifier_service.h"

namespace updraft::notifier {
namespace {

class AnnounceIdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = NotifierService::Create({.store = &store_,
                                      .router = &router_,
                                      .hub = &hub_,
                                      .metrics = &metrics_,
                                      .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    service_ = *std::move(s);
  }

  static v1::AnnounceRequest Request(const std::vector<std::string>& devices,
                                     const std::string& key) {
    v1::AnnounceRequest r;
    r.set_software_name("demo-app 2.0.0");
    r.set_location("rel_1");
    r.set_server_address("catalog.example:443");
    r.set_idempotency_key(key);
    for (const std::string& d : devices) r.add_targets()->set_device_id(d);
    return r;
  }

  v1::AnnounceResponse Announce(const std::vector<std::string>& devices, const std::string& key) {
    auto r = service_->Announce(Request(devices, key));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::AnnounceResponse();
  }

  // The notification IDs of `device`'s outbox rows, oldest first.
  std::vector<std::string> Held(const std::string& device) {
    std::vector<std::string> out;
    for (const auto& row : store_.Rows(device)) out.push_back(row.notification_id);
    return out;
  }

  static std::vector<std::string> Ids(const v1::AnnounceResponse& r) {
    return {r.queued_device_ids().begin(), r.queued_device_ids().end()};
  }

  static std::vector<std::pair<std::string, std::string>> AlreadyQueued(
      const v1::AnnounceResponse& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& d : r.already_queued()) out.emplace_back(d.device_id(), d.notification_id());
    return out;
  }

  FakeClock clock_{absl::FromUnixSeconds(1795348800)};
  FakeOutboxStore store_;
  SubscriberHub hub_;
  LocalDeviceRouter router_{&hub_};
  prometheus::Registry registry_;
  NotifierMetrics metrics_{registry_};
  std::unique_ptr<NotifierService> service_;
};

TEST_F(AnnounceIdempotencyTest, SameKeyTwiceQueuesOnceWithTheSameNotificationId) {
  const std::string key = "campaign/cmp_1/wave/2/attempt/0";
  v1::AnnounceResponse first = Announce({"dev-a", "dev-b"}, key);
  ASSERT_FALSE(first.notification_id().empty());
  EXPECT_EQ(first.devices_targeted(), 2);
  EXPECT_EQ(first.devices_already_queued(), 0);
  EXPECT_EQ(Ids(first), (std::vector<std::string>{"dev-a", "dev-b"}));
  EXPECT_TRUE(first.already_queued().empty());

  clock_.Advance(absl::Seconds(5));
  v1::AnnounceResponse again = Announce({"dev-b", "dev-a"}, key);
  EXPECT_EQ(again.notification_id(), "");  // nothing new was created
  EXPECT_EQ(again.devices_targeted(), 0);
  EXPECT_EQ(again.devices_already_queued(), 2);
  EXPECT_TRUE(again.queued_device_ids().empty());
  EXPECT_EQ(AlreadyQueued(again),
            (std::vector<std::pair<std::string, std::string>>{{"dev-b", first.notification_id()},
                                                              {"dev-a", first.notification_id()}}));
  EXPECT_EQ(Held("dev-a"), std::vector<std::string>{first.notification_id()});
  EXPECT_EQ(Held("dev-b"), std::vector<std::string>{first.notification_id()});
  EXPECT_EQ(store_.announcements(), std::vector<std::string>{first.notification_id()});
}

TEST_F(AnnounceIdempotencyTest, ADifferentKeyIsANewNotification) {
  v1::AnnounceResponse first = Announce({"dev-a"}, "campaign/cmp_1/wave/1/attempt/0");
  v1::AnnounceResponse retry = Announce({"dev-a"}, "campaign/cmp_1/wave/1/attempt/1");
  ASSERT_FALSE(retry.notification_id().empty());
  EXPECT_NE(retry.notification_id(), first.notification_id());
  EXPECT_EQ(retry.devices_targeted(), 1);
  EXPECT_EQ(retry.devices_already_queued(), 0);
  EXPECT_EQ(Held("dev-a"),
            (std::vector<std::string>{first.notification_id(), retry.notification_id()}));
}

TEST_F(AnnounceIdempotencyTest, OnlyTheDeviceNewToTheKeyGetsANewNotification) {
  const std::string key = "campaign/cmp_1/wave/3/attempt/0";
  v1::AnnounceResponse first = Announce({"dev-a", "dev-b"}, key);
  v1::AnnounceResponse second = Announce({"dev-b", "dev-c"}, key);
  ASSERT_FALSE(second.notification_id().empty());
  EXPECT_NE(second.notification_id(), first.notification_id());
  EXPECT_EQ(second.devices_targeted(), 1);
  EXPECT_EQ(Ids(second), std::vector<std::string>{"dev-c"});
  EXPECT_EQ(AlreadyQueued(second),
            (std::vector<std::pair<std::string, std::string>>{{"dev-b", first.notification_id()}}));
  EXPECT_EQ(Held("dev-a"), std::vector<std::string>{first.notification_id()});
  EXPECT_EQ(Held("dev-b"), std::vector<std::string>{first.notification_id()});
  EXPECT_EQ(Held("dev-c"), std::vector<std::string>{second.notification_id()});
  EXPECT_EQ(store_.Rows().size(), 3u);
}

TEST_F(AnnounceIdempotencyTest, WithoutAKeyEveryCallIsNew) {
  v1::AnnounceResponse first = Announce({"dev-a"}, "");
  v1::AnnounceResponse second = Announce({"dev-a"}, "");
  EXPECT_NE(first.notification_id(), second.notification_id());
  EXPECT_EQ(second.devices_targeted(), 1);
  EXPECT_EQ(second.devices_already_queued(), 0);
  EXPECT_TRUE(second.queued_device_ids().empty());  // lists only with a key
  EXPECT_EQ(Held("dev-a").size(), 2u);
}

// The device acknowledged the first delivery: the repeat sends nothing; a
// device whose entry was never tried gets the held notification at once.
TEST_F(AnnounceIdempotencyTest, RepeatDeliversOnlyWhatWasNeverTried) {
  const std::string key = "campaign/cmp_1/wave/1/attempt/0";
  auto online = hub_.Subscribe("dev-on");
  v1::AnnounceResponse first = Announce({"dev-on", "dev-off"}, key);
  auto got = online->Next(absl::ZeroDuration());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->notification_id(), first.notification_id());
  ASSERT_TRUE(service_->Ack("dev-on", first.notification_id()).ok());
  // dev-off stays queued for the worker, untried; it comes online before it.
  auto late = hub_.Subscribe("dev-off");
  v1::AnnounceResponse again = Announce({"dev-on", "dev-off"}, key);
  EXPECT_EQ(again.devices_already_queued(), 2);
  EXPECT_EQ(again.replicas_reached(), 1);
  EXPECT_FALSE(online->Next(absl::ZeroDuration()).has_value());
  auto delivered = late->Next(absl::ZeroDuration());
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->notification_id(), first.notification_id());
  EXPECT_EQ(delivered->signed_(), got->signed_());
  ASSERT_EQ(store_.Rows("dev-off").size(), 1u);
  EXPECT_EQ(store_.Rows("dev-off")[0].state, "sent");
  EXPECT_EQ(store_.Rows("dev-on")[0].state, "acknowledged");
  // Sent and not acknowledged: left to the worker's ack timeout, not re-sent.
  Announce({"dev-off"}, key);
  EXPECT_FALSE(late->Next(absl::ZeroDuration()).has_value());
  hub_.Unsubscribe(online);
  hub_.Unsubscribe(late);
}

TEST_F(AnnounceIdempotencyTest, EveryKnownDeviceWithAKeyIsCountedNotListed) {
  ASSERT_TRUE(store_.UpsertDevices({{.device_id = "dev-a"}, {.device_id = "dev-b"}}).ok());
  v1::AnnounceResponse first = Announce({}, "broadcast-1");
  EXPECT_EQ(first.devices_targeted(), 2);
  ASSERT_TRUE(store_.UpsertDevices({{.device_id = "dev-c"}}).ok());
  v1::AnnounceResponse second = Announce({}, "broadcast-1");
  EXPECT_EQ(second.devices_targeted(), 1);
  EXPECT_EQ(second.devices_already_queued(), 2);
  EXPECT_TRUE(second.already_queued().empty());
  EXPECT_TRUE(second.queued_device_ids().empty());
  EXPECT_EQ(Held("dev-c"), std::vector<std::string>{second.notification_id()});
  EXPECT_EQ(Held("dev-a"), std::vector<std::string>{first.notification_id()});
}

TEST_F(AnnounceIdempotencyTest, RejectsBadKeys) {
  auto r = service_->Announce(Request({"dev-a"}, std::string(129, 'k')));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "idempotency_key is longer than 128 bytes");
  for (const std::string& bad : std::vector<std::string>{"two words", "tab\there", "caf\xc3\xa9",
                                                         std::string("a\0b", 3), "\xff\xfe"}) {
    r = service_->Announce(Request({"dev-a"}, bad));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message(), "idempotency_key must be printable ASCII (0x21-0x7E)");
  }
  EXPECT_TRUE(store_.Rows().empty());  // nothing written by refused calls
  EXPECT_TRUE(store_.announcements().empty());
  EXPECT_EQ(Announce({"dev-a"}, std::string(128, '~')).devices_targeted(), 1);
}

}  // namespace
}  // namespace updraft::notifier
