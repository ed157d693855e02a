#include "services/catalog/campaign_webhooks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/catalog/campaign_curl_sender.h"
#include "services/catalog/campaign_fake_store.h"
#include "services/catalog/campaign_test_http_server.h"

namespace updraft::catalog {
namespace {

constexpr char kSecret[] = "0123456789abcdef";

TEST(SignWebhookTest, IsHmacSha256OfTimestampDotBody) {
  EXPECT_EQ(SignWebhook(kSecret, 1700000000, "{\"a\":1}"),
            "sha256=9eb18f493f8ec135d9eb2dad817c369bb4e9cbfa818657897a7437c1cd8c3a23");
}

TEST(ValidateWebhookTest, RequiresHttpsUnlessAllowedAndAStrongSecret) {
  v1::CreateWebhookRequest r;
  r.set_url("https://hooks.example/updraft");
  r.set_secret(kSecret);
  EXPECT_TRUE(ValidateWebhook(r, false).ok());
  r.set_url("http://hooks.example/updraft");
  EXPECT_EQ(ValidateWebhook(r, false).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateWebhook(r, true).ok());
  r.set_url("https:///nohost");
  EXPECT_EQ(ValidateWebhook(r, false).code(), absl::StatusCode::kInvalidArgument);
  r.set_url("https://a b/");
  EXPECT_EQ(ValidateWebhook(r, false).code(), absl::StatusCode::kInvalidArgument);
  r.set_url("https://hooks.example/");
  r.set_secret("short");
  EXPECT_TRUE(absl::StrContains(ValidateWebhook(r, false).message(), "secret"));
  r.set_secret(kSecret);
  r.set_campaign_id("bad id");
  EXPECT_EQ(ValidateWebhook(r, false).code(), absl::StatusCode::kInvalidArgument);
}

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.AddRelease("rel_1");
    v1::Webhook w;
    w.set_webhook_id("whk_1");
    w.set_url(server_.url());
    ASSERT_TRUE(store_.CreateWebhook(w, kSecret).ok());
    v1::Campaign c;
    c.set_campaign_id("cmp_1");
    c.mutable_spec()->set_release_id("rel_1");
    v1::CampaignEvent e;
    e.set_campaign_id("cmp_1");
    e.set_type(v1::CAMPAIGN_EVENT_DEVICE_FAILED);
    e.set_device_id("dev-7");
    e.set_result(v1::INSTALL_FAILED);
    ASSERT_TRUE(store_.Create(c, e, clock_.Now()).ok());
  }

  FakeClock clock_;
  FakeCampaignStore store_;
  LocalHttpServer server_;
  CurlWebhookSender sender_{{.timeout = absl::Seconds(5), .allow_plain_http = true}};
};

TEST_F(WebhookDispatcherTest, SignsDeliversAndRetriesWithBackoff) {
  auto d = WebhookDispatcher::Create(
      {.store = &store_, .sender = &sender_, .clock = &clock_, .base_backoff = absl::Seconds(10)});
  ASSERT_TRUE(d.ok());
  server_.QueueStatus(503);
  auto sent = (*d)->RunOnce();
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 0);
  EXPECT_EQ(store_.deliveries().at(0).last_error, "HTTP 503");
  EXPECT_EQ(*(*d)->RunOnce(), 0);  // Not due before the backoff.
  EXPECT_EQ(server_.requests().size(), 1u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(*(*d)->RunOnce(), 1);
  EXPECT_EQ(*(*d)->RunOnce(), 0);  // Delivered once only.
  ASSERT_EQ(server_.requests().size(), 2u);
  LocalHttpServer::Request r = server_.requests()[1];
  int64_t ts = 0;
  ASSERT_TRUE(absl::SimpleAtoi(r.headers["x-updraft-timestamp"], &ts));
  EXPECT_EQ(r.headers["x-updraft-signature"], SignWebhook(kSecret, ts, r.body));
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_TRUE(absl::StrContains(r.body, "\"device_id\":\"dev-7\"")) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, "CAMPAIGN_EVENT_DEVICE_FAILED")) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, "INSTALL_FAILED")) << r.body;
  EXPECT_TRUE(store_.deliveries().at(0).delivered);
}

class FailingSender : public WebhookSender {
 public:
  absl::StatusOr<int> Post(const std::string&, const std::map<std::string, std::string>&,
                           const std::string&) override {
    ++calls;
    return absl::UnavailableError("connection refused");
  }
  int calls = 0;
};

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  FailingSender failing;
  auto d = WebhookDispatcher::Create({.store = &store_,
                                      .sender = &failing,
                                      .clock = &clock_,
                                      .max_attempts = 3,
                                      .base_backoff = absl::Seconds(1),
                                      .max_backoff = absl::Seconds(3)});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->Backoff(1), absl::Seconds(1));
  EXPECT_EQ((*d)->Backoff(2), absl::Seconds(2));
  EXPECT_EQ((*d)->Backoff(5), absl::Seconds(3));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*d)->RunOnce().ok());
    clock_.Advance(absl::Seconds(10));
  }
  EXPECT_EQ(failing.calls, 3);
  EXPECT_TRUE(store_.deliveries().at(0).gave_up);
}

TEST(CurlWebhookSenderTest, RefusesPlainHttpByDefaultAndReportsUnreachable) {
  CurlWebhookSender strict({});
  EXPECT_EQ(strict.Post("http://127.0.0.1:1/x", {}, "{}").status().code(),
            absl::StatusCode::kInvalidArgument);
  CurlWebhookSender lax({.timeout = absl::Seconds(2), .allow_plain_http = true});
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);  // bound, not listening
  auto r = lax.Post(absl::StrCat("http://127.0.0.1:", ntohs(a.sin_port), "/x"), {}, "{}");
  close(fd);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace updraft::catalog
