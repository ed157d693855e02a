#include "services/notifier/notifier_service.h"

#include "gtest/gtest.h"
#include "services/notifier/mocks.h"

namespace updraft::notifier {
namespace {

using ::testing::_;
using ::testing::Return;

class NotifierServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = NotifierService::Create({.bus = &bus_, .hub = &hub_, .clock = &clock_});
    ASSERT_TRUE(s.ok());
    service_ = *std::move(s);
  }
  v1::AnnounceRequest Valid() {
    v1::AnnounceRequest r;
    r.set_software_name("demo-app");
    r.set_location("rel_1");
    r.set_server_address("catalog.example:443");
    return r;
  }
  FakeClock clock_;
  SubscriberHub hub_;
  LocalAnnouncementBus bus_{&hub_};
  std::unique_ptr<NotifierService> service_;
};

TEST_F(NotifierServiceTest, AnnouncementReachesStreamWithPatentFields) {
  auto sub = service_->OpenStream("dev-1");
  auto r = service_->Announce(Valid());
  ASSERT_TRUE(r.ok()) << r.status();
  auto n = service_->NextFor(*sub, absl::ZeroDuration());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->notification_id(), r->notification_id());
  EXPECT_EQ(n->software_name(), "demo-app");
  EXPECT_EQ(n->location(), "rel_1");
  EXPECT_EQ(n->server_address(), "catalog.example:443");
  EXPECT_EQ(n->timestamp_unix(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(n->expires_at_unix(), absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
}

TEST_F(NotifierServiceTest, ExpiredNotificationsAreNotDelivered) {
  auto sub = service_->OpenStream("dev-1");
  auto req = Valid();
  req.set_ttl_seconds(60);
  ASSERT_TRUE(service_->Announce(req).ok());
  clock_.Advance(absl::Seconds(61));
  EXPECT_FALSE(service_->NextFor(*sub, absl::ZeroDuration()).has_value());
}

TEST_F(NotifierServiceTest, RejectsBadAnnouncements) {
  auto r = Valid();
  r.clear_software_name();
  EXPECT_EQ(service_->Announce(r).status().message(), "software_name is required");
  r = Valid();
  r.set_location(std::string(300, 'x'));
  EXPECT_EQ(service_->Announce(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Valid();
  r.set_server_address("a\nb");
  EXPECT_EQ(service_->Announce(r).status().message(),
            "server_address contains a control character");
  r = Valid();
  r.set_ttl_seconds(-1);
  EXPECT_EQ(service_->Announce(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NotifierServiceBusTest, BusFailureIsUnavailable) {
  FakeClock clock;
  SubscriberHub hub;
  MockAnnouncementBus bus;
  EXPECT_CALL(bus, Publish(_)).WillOnce(Return(absl::UnavailableError("redis down")));
  auto s = NotifierService::Create({.bus = &bus, .hub = &hub, .clock = &clock});
  v1::AnnounceRequest r;
  r.set_software_name("a");
  r.set_location("b");
  r.set_server_address("c");
  auto res = (*s)->Announce(r);
  EXPECT_EQ(res.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.status().message(), "announcement not sent: redis down");
}

}  // namespace
}  // namespace updraft::notifier
