#include "services/notifier/subscriber_hub.h"

#include <grpcpp/support/slice.h>

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

namespace updraft::notifier {
namespace {

// Records what a Subscription asks of its stream; writes complete only when
// the test says so.
class FakeWriter : public StreamWriter {
 public:
  void StartWrite(const PreparedNotification& n) override {
    absl::MutexLock lock(&mu_);
    writes_.push_back(&n);
    ids_.push_back(n.notification().notification_id());
  }
  void Finish(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    ++finishes_;
    status_ = status;
  }
  void Cancel() override {
    absl::MutexLock lock(&mu_);
    ++cancels_;
  }
  std::vector<std::string> ids() {
    absl::MutexLock lock(&mu_);
    return ids_;
  }
  std::vector<const PreparedNotification*> writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  int finishes() {
    absl::MutexLock lock(&mu_);
    return finishes_;
  }
  int cancels() {
    absl::MutexLock lock(&mu_);
    return cancels_;
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  std::vector<const PreparedNotification*> writes_;
  std::vector<std::string> ids_;
  int finishes_ = 0;
  int cancels_ = 0;
  absl::Status status_;
};

TEST(SubscriptionPushTest, OneWriteInFlightThenTheNextInOrder) {
  Subscription sub("a", 8);
  FakeWriter w;
  sub.Attach(&w, nullptr);
  EXPECT_TRUE(sub.Offer(N("1")));
  EXPECT_TRUE(sub.Offer(N("2")));
  EXPECT_TRUE(sub.Offer(N("3")));
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1"}));  // 2 and 3 wait
  sub.WriteDone(true);
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1", "2"}));
  sub.WriteDone(true);
  sub.WriteDone(true);
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1", "2", "3"}));
  EXPECT_EQ(w.finishes(), 0);
  // A notification offered to an idle stream is written at once.
  EXPECT_TRUE(sub.Offer(N("4")));
  EXPECT_EQ(w.ids().back(), "4");
  sub.WriteDone(true);
  sub.Close();
  EXPECT_EQ(w.finishes(), 1);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable);
  sub.Close();  // again: no second Finish
  EXPECT_FALSE(sub.Offer(N("5")));
  EXPECT_EQ(w.finishes(), 1);
  sub.Detach();
}

TEST(SubscriptionPushTest, CloseWaitsForTheWriteInFlight) {
  Subscription sub("a", 8);
  FakeWriter w;
  sub.Attach(&w, nullptr);
  sub.Offer(N("1"));
  sub.Offer(N("2"));
  sub.Close(absl::UnauthenticatedError("device a is revoked"));
  EXPECT_EQ(w.finishes(), 0);  // never Finish with a write in flight
  EXPECT_EQ(w.cancels(), 0);
  sub.WriteDone(true);
  EXPECT_EQ(w.finishes(), 1);
  EXPECT_EQ(w.status().message(), "device a is revoked");
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1"}));  // 2 is dropped: closed
  sub.Detach();
}

TEST(SubscriptionPushTest, SlowReaderIsCancelledAndItsBacklogFreed) {
  Subscription sub("a", 3, /*close_when_full=*/true);
  FakeWriter w;
  sub.Attach(&w, nullptr);
  EXPECT_TRUE(sub.Offer(N("1")));  // in flight, never completes
  EXPECT_TRUE(sub.Offer(N("2")));
  EXPECT_TRUE(sub.Offer(N("3")));
  EXPECT_TRUE(sub.Offer(N("4")));
  EXPECT_FALSE(sub.overflowed());
  EXPECT_FALSE(sub.Offer(N("5")));  // a fourth waiting one: too far behind
  EXPECT_TRUE(sub.overflowed());
  EXPECT_TRUE(sub.closed());
  EXPECT_EQ(sub.dropped(), 4u);
  EXPECT_EQ(w.cancels(), 1);
  EXPECT_EQ(w.finishes(), 0);
  EXPECT_FALSE(sub.Offer(N("6")));
  EXPECT_EQ(w.cancels(), 1);
  sub.WriteDone(false);  // the cancelled write ends
  EXPECT_EQ(w.finishes(), 1);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1"}));
  sub.Detach();
}

// What the outbox re-delivers as a stream opens is queued whole, even past
// the capacity; only live offers count as the reader falling behind.
TEST(SubscriptionPushTest, BacklogPastTheCapacityIsNotFallingBehind) {
  Subscription sub("a", 3, /*close_when_full=*/true);
  for (int i = 1; i <= 5; ++i)
    EXPECT_TRUE(sub.OfferBacklog(PreparedNotification::Make(N(std::to_string(i)))));
  EXPECT_FALSE(sub.overflowed());
  FakeWriter w;
  sub.Attach(&w, nullptr);
  for (int i = 1; i < 5; ++i) sub.WriteDone(true);
  EXPECT_EQ(w.ids(), std::vector<std::string>({"1", "2", "3", "4", "5"}));
  EXPECT_FALSE(sub.closed());
  sub.Close();
  EXPECT_FALSE(sub.OfferBacklog(PreparedNotification::Make(N("6"))));  // closed
  sub.WriteDone(true);
  EXPECT_EQ(w.finishes(), 1);
  sub.Detach();
}

TEST(SubscriptionPushTest, FailedWriteEndsTheStream) {
  Subscription sub("a", 8);
  FakeWriter w;
  sub.Attach(&w, nullptr);
  sub.Offer(N("1"));
  sub.Offer(N("2"));
  sub.WriteDone(false);
  EXPECT_TRUE(sub.closed());
  EXPECT_EQ(w.finishes(), 1);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kCancelled);
  sub.Detach();
}

TEST(SubscriptionPushTest, QueuedBeforeAttachIsWrittenAndFilterSkips) {
  Subscription sub("a", 8);
  sub.Offer(N("old"));
  sub.Offer(N("keep"));
  FakeWriter w;
  sub.Attach(&w, [](const PreparedNotification& n) {
    return n.notification().notification_id() != "old";
  });
  EXPECT_EQ(w.ids(), std::vector<std::string>({"keep"}));
  sub.WriteDone(true);
  sub.Close();
  sub.Detach();
}

TEST(PreparedNotificationTest, SerialisesOnce) {
  v1::Notification n = N("abc");
  n.set_location("rel_1");
  n.set_signed_(std::string(120, 's'));  // like a real one: beyond an inlined slice
  auto p = PreparedNotification::Make(n);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(p->bytes().Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 1u);
  v1::Notification back;
  ASSERT_TRUE(back.ParseFromArray(slices[0].begin(), slices[0].size()));
  EXPECT_EQ(back.location(), "rel_1");
  // A copy (what each stream's write makes) shares the bytes.
  grpc::ByteBuffer copy(p->bytes());
  std::vector<grpc::Slice> copied;
  ASSERT_TRUE(copy.Dump(&copied).ok());
  EXPECT_EQ(copied[0].begin(), slices[0].begin());
}

TEST(SubscriberHubFanoutTest, EveryStreamWritesTheSamePreparedNotification) {
  SubscriberHub hub(SubscriberHub::Options{.queue_capacity = 4, .fanout_threads = 2});
  constexpr int kStreams = 2000;
  std::vector<std::shared_ptr<Subscription>> subs;
  std::vector<std::unique_ptr<FakeWriter>> writers;
  std::vector<std::string> devices;
  for (int i = 0; i < kStreams; ++i) {
    devices.push_back("d" + std::to_string(i));
    subs.push_back(hub.Subscribe(devices.back()));
    writers.push_back(std::make_unique<FakeWriter>());
    subs.back()->Attach(writers.back().get(), nullptr);
  }
  devices.push_back("not-here");
  auto p = PreparedNotification::Make(N("x"));
  EXPECT_EQ(hub.SendToMany(devices, p), kStreams);
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_EQ(writers[i]->writes().size(), 1u) << i;
    EXPECT_EQ(writers[i]->writes()[0], p.get());
  }
  hub.CloseAll();
  for (int i = 0; i < kStreams; ++i) {
    subs[i]->WriteDone(true);
    EXPECT_EQ(writers[i]->finishes(), 1);
    subs[i]->Detach();
  }
}

}  // namespace
}  // namespace updraft::notifier
