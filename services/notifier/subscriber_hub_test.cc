#include "services/notifier/subscriber_hub.h"

#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

v1::Notification N(const std::string& id) {
  v1::Notification n;
  n.set_notification_id(id);
  return n;
}

TEST(SubscriberHubTest, BroadcastReachesEveryStream) {
  SubscriberHub hub;
  auto a = hub.Subscribe("a");
  auto b = hub.Subscribe("b");
  EXPECT_EQ(hub.Broadcast(N("1")), 2);
  EXPECT_EQ(a->Next(absl::ZeroDuration())->notification_id(), "1");
  EXPECT_EQ(b->Next(absl::ZeroDuration())->notification_id(), "1");
  EXPECT_FALSE(a->Next(absl::ZeroDuration()).has_value());
  EXPECT_FALSE(a->closed());
}

TEST(SubscriberHubTest, SecondStreamOfADeviceReplacesTheFirst) {
  SubscriberHub hub;
  auto first = hub.Subscribe("a");
  auto second = hub.Subscribe("a");
  EXPECT_TRUE(first->closed());
  EXPECT_FALSE(second->closed());
  EXPECT_EQ(hub.size(), 1u);
  hub.Unsubscribe(first);  // stale handle: must not remove the new stream
  EXPECT_EQ(hub.size(), 1u);
  EXPECT_TRUE(hub.SendTo("a", N("x")));
  EXPECT_FALSE(hub.SendTo("nobody", N("x")));
  hub.Unsubscribe(second);
  EXPECT_EQ(hub.size(), 0u);
}

TEST(SubscriberHubTest, SlowReaderKeepsNewestWithinCapacity) {
  SubscriberHub hub(2);
  auto a = hub.Subscribe("a");
  hub.Broadcast(N("1"));
  hub.Broadcast(N("2"));
  hub.Broadcast(N("3"));
  EXPECT_EQ(a->dropped(), 1u);
  EXPECT_EQ(a->Next(absl::ZeroDuration())->notification_id(), "2");
  EXPECT_EQ(a->Next(absl::ZeroDuration())->notification_id(), "3");
}

TEST(SubscriberHubTest, CloseAllEndsStreams) {
  SubscriberHub hub;
  auto a = hub.Subscribe("a");
  hub.CloseAll();
  EXPECT_TRUE(a->closed());
  EXPECT_FALSE(a->Next(absl::Seconds(5)).has_value());  // returns at once: closed
  EXPECT_FALSE(a->Offer(N("late")));
  EXPECT_EQ(hub.size(), 0u);
}

}  // namespace
}  // namespace updraft::notifier
