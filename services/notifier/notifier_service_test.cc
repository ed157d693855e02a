// NotifierService and DeliveryWorker over the real PostgreSQL outbox, with a
// one-replica router and mock gateways: fan-out, acks, fallback, retries,
// expiry and re-delivery on reconnect.
#include "services/notifier/notifier_service.h"

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "common/notification_format.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/notifier/delivery_worker.h"
#include "services/notifier/mocks.h"
#include "services/notifier/pg_outbox_store.h"

namespace updraft::notifier {
namespace {

using ::testing::_;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Return;

constexpr char kMsisdn[] = "+4915112345678";

double Metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      if (family.name == name) return m.counter.value + m.gauge.value;
      if (family.name + "_count" == name) return m.histogram.sample_count;
    }
  }
  return -1;
}

class NotifierServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    pool_ = *PgPool::Create({.uri = env_->pg_uri()});
    store_ = *PgOutboxStore::Create(pool_.get());
    worker_ = *DeliveryWorker::Create({.store = store_.get(),
                                       .router = &router_,
                                       .sms = &sms_,
                                       .wap = &wap_,
                                       .metrics = &metrics_,
                                       .clock = &clock_,
                                       .wap_href_base = "https://u.example/n/",
                                       .max_attempts = 3});
    auto s = NotifierService::Create({.store = store_.get(),
                                      .router = &router_,
                                      .hub = &hub_,
                                      .metrics = &metrics_,
                                      .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    service_ = *std::move(s);
    verifier_ = std::make_unique<NotificationVerifier>(
        NotificationVerifier::Options{.trusted_keys = service_->PublicKeys(), .clock = &clock_});
  }

  v1::AnnounceRequest Valid() {
    v1::AnnounceRequest r;
    r.set_software_name("demo-app");
    r.set_location("rel_1");
    r.set_server_address("catalog.example:443");
    return r;
  }
  v1::AnnounceTarget* Target(v1::AnnounceRequest& r, const std::string& device) {
    auto* t = r.add_targets();
    t->set_device_id(device);
    t->set_msisdn(kMsisdn);
    t->set_ack_timeout_seconds(30);
    return t;
  }
  std::string State(const std::string& device, const std::string& id) {
    std::string state = "absent";
    EXPECT_TRUE(pool_
                    ->Transact([&](pqxx::work& txn) {
                      auto r = txn.exec_params(
                          "SELECT state || '/' || channel FROM notifier_outbox "
                          "WHERE device_id = $1 AND notification_id = $2",
                          device, id);
                      if (!r.empty()) state = r[0][0].as<std::string>();
                      return absl::OkStatus();
                    })
                    .ok());
    return state;
  }
  double M(const std::string& name, const std::map<std::string, std::string>& labels) {
    return Metric(registry_, name, labels);
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgOutboxStore> store_;
  SubscriberHub hub_;
  LocalDeviceRouter router_{&hub_};
  MockSmsGateway sms_;
  MockWapPushGateway wap_;
  prometheus::Registry registry_;
  NotifierMetrics metrics_{registry_};
  std::unique_ptr<DeliveryWorker> worker_;
  std::unique_ptr<NotifierService> service_;
  std::unique_ptr<NotificationVerifier> verifier_;
};

TEST_F(NotifierServiceTest, OnlineDeviceGetsASignedNotificationAndAcks) {
  auto sub = service_->OpenStream("dev-1");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(M("updraft_notifier_notifications_total", {{"channel", "sms"}, {"state", "failed"}}),
            0);                          // pre-created
  auto r = service_->Announce(Valid());  // no targets: every known device
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->devices_targeted(), 1);
  EXPECT_EQ(r->replicas_reached(), 1);
  auto n = service_->NextFor(**sub, absl::ZeroDuration());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->notification_id(), r->notification_id());
  auto f = verifier_->Accept(n->signed_());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(NotificationIdHex(f->id), n->notification_id());
  EXPECT_EQ(f->location, "rel_1");
  EXPECT_EQ(f->server_address, "catalog.example:443");
  EXPECT_EQ(State("dev-1", n->notification_id()), "sent/ip_push");
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(service_->Ack("dev-1", n->notification_id()).ok());
  ASSERT_TRUE(service_->Ack("dev-1", n->notification_id()).ok());  // repeated: no-op
  EXPECT_EQ(State("dev-1", n->notification_id()), "acknowledged/ip_push");
  EXPECT_EQ(M("updraft_notifier_notifications_total",
              {{"channel", "ip_push"}, {"state", "acknowledged"}}),
            1);
  EXPECT_EQ(M("updraft_notifier_delivery_latency_seconds_count", {{"channel", "ip_push"}}), 1);
  EXPECT_EQ(service_->Ack("dev-1", "feedfeedfeedfeed").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(service_->Ack("dev-2", n->notification_id()).code(), absl::StatusCode::kNotFound);
  service_->CloseStream(*sub);
}

TEST_F(NotifierServiceTest, OfflineDeviceFallsBackToSmsThenWapPush) {
  v1::AnnounceRequest req = Valid();
  Target(req, "dev-2");
  std::string sms_payload;
  EXPECT_CALL(sms_, SendBinary(kMsisdn, _)).WillOnce([&](auto&, const std::string& p) {
    sms_payload = p;
    return absl::OkStatus();
  });
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->replicas_reached(), 0);
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_EQ(State("dev-2", r->notification_id()), "sent/sms");
  ASSERT_TRUE(verifier_->Accept(sms_payload).ok());
  EXPECT_EQ(M("updraft_notifier_fallbacks_total", {{"from", "ip_push"}, {"to", "sms"}}), 1);
  // No ack within 30 s: WAP Push, whose href carries the same notification.
  EXPECT_CALL(wap_, Send(_)).WillOnce([&](const WapPushGateway::Push& p) {
    EXPECT_EQ(p.msisdn, kMsisdn);
    EXPECT_EQ(*NotificationFromHref(p.href), sms_payload);
    return absl::OkStatus();
  });
  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(worker_->RunOnce({})->claimed, 0);
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_EQ(State("dev-2", r->notification_id()), "sent/wap_push");
  EXPECT_EQ(M("updraft_notifier_fallbacks_total", {{"from", "sms"}, {"to", "wap_push"}}), 1);
  ASSERT_TRUE(service_->Ack("dev-2", r->notification_id()).ok());
  EXPECT_EQ(State("dev-2", r->notification_id()), "acknowledged/wap_push");
  // The last channel had its chance: nothing more is sent.
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(worker_->RunOnce({})->claimed, 0);
}

TEST_F(NotifierServiceTest, OnlineDeviceThatDoesNotAckGetsAnSms) {
  auto sub = service_->OpenStream("dev-7");
  ASSERT_TRUE(sub.ok());
  v1::AnnounceRequest req = Valid();
  Target(req, "dev-7");
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas_reached(), 1);
  ASSERT_TRUE(service_->NextFor(**sub, absl::ZeroDuration()).has_value());
  EXPECT_EQ(State("dev-7", r->notification_id()), "sent/ip_push");
  EXPECT_CALL(sms_, SendBinary(kMsisdn, _)).WillOnce(Return(absl::OkStatus()));
  clock_.Advance(absl::Seconds(31));  // the ack timeout passed
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_EQ(State("dev-7", r->notification_id()), "sent/sms");
  EXPECT_EQ(M("updraft_notifier_fallbacks_total", {{"from", "ip_push"}, {"to", "sms"}}), 1);
  service_->CloseStream(*sub);
}

TEST_F(NotifierServiceTest, GatewayErrorsRetryWithBackoffThenFallBack) {
  v1::AnnounceRequest req = Valid();
  auto* t = Target(req, "dev-3");
  t->add_channels(v1::CHANNEL_SMS);
  t->add_channels(v1::CHANNEL_WAP_PUSH);
  EXPECT_CALL(sms_, SendBinary(_, _))
      .Times(3)
      .WillRepeatedly(Return(absl::UnavailableError("gateway unreachable")));
  EXPECT_CALL(wap_, Send(_)).WillOnce(Return(absl::OkStatus()));
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(worker_->RunOnce({}).ok());  // attempt 1
  EXPECT_EQ(State("dev-3", r->notification_id()), "queued/sms");
  EXPECT_EQ(worker_->RunOnce({})->claimed, 0);  // backing off
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(worker_->RunOnce({}).ok());  // attempt 2, then 4 s
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(worker_->RunOnce({})->claimed, 0);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(worker_->RunOnce({}).ok());  // attempt 3: give up on SMS
  EXPECT_EQ(State("dev-3", r->notification_id()), "sent/wap_push");
  EXPECT_EQ(M("updraft_notifier_gateway_errors_total", {{"channel", "sms"}}), 3);
}

TEST_F(NotifierServiceTest, UnacknowledgedNotificationsComeBackOnReconnect) {
  auto first = service_->OpenStream("dev-4");
  ASSERT_TRUE(first.ok());
  auto r = service_->Announce(Valid());
  ASSERT_TRUE(r.ok());
  auto n = service_->NextFor(**first, absl::ZeroDuration());
  ASSERT_TRUE(n.has_value());
  ASSERT_TRUE(verifier_->Accept(n->signed_()).ok());
  service_->CloseStream(*first);  // lost before the ack
  auto second = service_->OpenStream("dev-4");
  ASSERT_TRUE(second.ok());
  auto again = service_->NextFor(**second, absl::ZeroDuration());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->notification_id(), n->notification_id());
  // The device drops the duplicate by ID, and acknowledges.
  EXPECT_EQ(verifier_->Accept(again->signed_()).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(service_->Ack("dev-4", again->notification_id()).ok());
  service_->CloseStream(*second);
  auto third = service_->OpenStream("dev-4");
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(service_->NextFor(**third, absl::ZeroDuration()).has_value());
}

TEST_F(NotifierServiceTest, NotificationsExpireAndAreNotRedelivered) {
  v1::AnnounceRequest req = Valid();
  req.set_ttl_seconds(60);
  auto* t = Target(req, "dev-5");
  t->add_channels(v1::CHANNEL_SMS);
  EXPECT_CALL(sms_, SendBinary(_, _)).WillRepeatedly(Return(absl::UnavailableError("down")));
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  clock_.Advance(absl::Seconds(61));
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_EQ(State("dev-5", r->notification_id()), "expired/sms");
  auto sub = service_->OpenStream("dev-5");
  ASSERT_TRUE(sub.ok());
  EXPECT_FALSE(service_->NextFor(**sub, absl::ZeroDuration()).has_value());
}

TEST_F(NotifierServiceTest, DeviceWithoutAnyUsableChannelFails) {
  v1::AnnounceRequest req = Valid();
  auto* t = req.add_targets();
  t->set_device_id("dev-6");  // offline, no msisdn
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_THAT(State("dev-6", r->notification_id()), HasSubstr("failed/"));
  // It still reaches the device when it connects.
  auto sub = service_->OpenStream("dev-6");
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE(service_->NextFor(**sub, absl::ZeroDuration()).has_value());
}

TEST_F(NotifierServiceTest, WorkerDeliversOverIpPushOnceTheDeviceIsOnline) {
  v1::AnnounceRequest req = Valid();
  auto* t = Target(req, "dev-8");
  t->add_channels(v1::CHANNEL_IP_PUSH);
  t->add_channels(v1::CHANNEL_SMS);
  auto r = service_->Announce(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->replicas_reached(), 0);
  EXPECT_EQ(State("dev-8", r->notification_id()), "queued/");  // offline: left to the worker
  auto sub = hub_.Subscribe("dev-8");  // online now, without the re-delivery of OpenStream
  ASSERT_TRUE(worker_->RunOnce({}).ok());
  EXPECT_EQ(State("dev-8", r->notification_id()), "sent/ip_push");  // the bulk IP Push update
  auto n = sub->Next(absl::ZeroDuration());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->notification_id(), r->notification_id());
  EXPECT_EQ(M("updraft_notifier_notifications_total", {{"channel", "ip_push"}, {"state", "sent"}}),
            1);
  hub_.Unsubscribe(sub);
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
  r = Valid();
  Target(r, "dev-1")->set_msisdn("0151");
  EXPECT_EQ(service_->Announce(r).status().message(),
            "targets[0].msisdn must be \"+\" and 5 to 15 digits");
  r = Valid();
  Target(r, "dev-1")->add_channels(static_cast<v1::Channel>(9));
  EXPECT_EQ(service_->Announce(r).status().message(), "targets[0].channels has an unknown channel");
  r = Valid();
  Target(r, "dev-1");
  Target(r, "dev-1");
  EXPECT_EQ(service_->Announce(r).status().message(), "targets[1].device_id dev-1 is listed twice");
  r = Valid();
  Target(r, "")->set_device_id("");
  EXPECT_EQ(service_->Announce(r).status().message(), "targets[0].device_id is required");
  // Nothing was written by the refused requests.
  EXPECT_EQ(service_->Announce(Valid())->devices_targeted(), 0);
}

}  // namespace
}  // namespace updraft::notifier
