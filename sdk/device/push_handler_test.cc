#include "sdk/device/push_handler.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"
#include "sdk/device/push_test_fixture.h"

namespace updraft::device {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PushHandlerTest : public testutil::PushTest {};

TEST_F(PushHandlerTest, ValidSmsRunsTheFlowAndAcks) {
  absl::StatusOr<PushResult> r = handler_->HandleSmsPayload(Signed('a'));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->acked) << r->ack_error;
  EXPECT_EQ(r->notification.location, "r_1");
  ASSERT_TRUE(r->outcomes.ok()) << r->outcomes.status();
  ASSERT_EQ(r->outcomes->size(), 1u);
  EXPECT_TRUE((*r->outcomes)[0].success()) << (*r->outcomes)[0].message;
  EXPECT_EQ(Installed(), std::string(3000, 'a'));
  EXPECT_THAT(notifier_.acks(), ElementsAre(NotificationIdHex(std::string(8, 'a'))));
  EXPECT_EQ(notifier_.key_fetches(), 1);
}

TEST_F(PushHandlerTest, KeysAreCachedForOfflineVerification) {
  ASSERT_TRUE(handler_->RefreshKeys().ok());
  // A new handler (device restarted) with the notifier unreachable.
  notifier_.SetKeys({});
  auto offline = NewHandler();
  EXPECT_THAT(offline->TrustedKeys(), ElementsAre(signing_.public_key()));
  EXPECT_TRUE(offline->Verify(Signed('b')).ok());
  EXPECT_EQ(notifier_.key_fetches(), 1);
}

TEST_F(PushHandlerTest, ReplayIsRefusedAfterARestart) {
  const std::string sms = Signed('r');
  ASSERT_TRUE(handler_->Verify(sms).ok());
  auto restarted = NewHandler();  // same state directory
  absl::StatusOr<NotificationFields> again = restarted->Verify(sms);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(restarted->Verify(Signed('s')).ok());  // others still pass
}

TEST_F(PushHandlerTest, CorruptHistoryIsDataLoss) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/state/seen_notifications", "soon zz\n").ok());
  PushHandler::Options p;
  p.client = client_.get();
  p.notifier_channel = server_.channel;
  p.state_dir = dir_ + "/state";
  EXPECT_EQ(PushHandler::Create(std::move(p)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PushHandlerTest, CorruptKeyCacheIsDataLoss) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/state/notification_keys", "!!not base64\n").ok());
  PushHandler::Options p;
  p.client = client_.get();
  p.notifier_channel = server_.channel;
  p.state_dir = dir_ + "/state";
  EXPECT_EQ(PushHandler::Create(std::move(p)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PushHandlerTest, ForgedTamperedReplayedAndExpiredAreRejected) {
  // Signed by a key the notifier does not use.
  Ed25519KeyPair forger = *Ed25519KeyPair::Generate();
  auto forged = handler_->HandleSmsPayload(*EncodeNotification(Fields('c'), forger));
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated) << forged.status();
  // One byte of the location altered.
  std::string tampered = Signed('d');
  tampered[tampered.size() - kEd25519SignatureSize - 1] ^= 1;
  EXPECT_EQ(handler_->HandleSmsPayload(tampered).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Expired.
  NotificationFields old = Fields('e');
  const std::string stale = Signed(old);
  clock_.Advance(absl::Hours(2));
  auto expired = handler_->HandleSmsPayload(stale);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kFailedPrecondition) << expired.status();
  // Garbage.
  EXPECT_EQ(handler_->HandleSmsPayload("\x01\x02").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(handler_->HandleSmsPayload("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(notifier_.acks(), IsEmpty());
  EXPECT_EQ(download_.chunks_sent(), 0);
  EXPECT_THAT(catalog_.checks(), IsEmpty());

  // Replay of an accepted one, also over another channel.
  const std::string good = Signed('f');
  ASSERT_TRUE(handler_->HandleSmsPayload(good).ok());
  const int64_t chunks = download_.chunks_sent();
  auto replay = handler_->HandleSmsPayload(good);
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kAlreadyExists) << replay.status();
  EXPECT_THAT(replay.status().message(), HasSubstr("notification rejected"));
  auto via_wap =
      handler_->HandleWapPushSi(absl::StrCat("https://n.example/n/", NotificationToBase64(good)));
  EXPECT_EQ(via_wap.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(download_.chunks_sent(), chunks);
  EXPECT_EQ(notifier_.acks().size(), 1u);
  EXPECT_EQ(catalog_.checks().size(), 1u);
}

TEST_F(PushHandlerTest, UnknownKeyFetchesAtMostOncePerInterval) {
  Ed25519KeyPair forger = *Ed25519KeyPair::Generate();
  EXPECT_FALSE(handler_->Verify(*EncodeNotification(Fields('g'), forger)).ok());
  EXPECT_FALSE(handler_->Verify(*EncodeNotification(Fields('h'), forger)).ok());
  EXPECT_EQ(notifier_.key_fetches(), 1);
}

TEST_F(PushHandlerTest, WapPushSiXmlAndHref) {
  const std::string href = absl::StrCat("https://n.example/n/", NotificationToBase64(Signed('i')));
  const std::string si = absl::StrCat("<?xml version=\"1.0\"?>\n<si><indication href=\"", href,
                                      "\" si-id=\"x\">Update available</indication></si>");
  auto r = handler_->HandleWapPushSi(si);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->acked);
  EXPECT_EQ(Installed(), std::string(3000, 'a'));
  auto by_href = handler_->HandleWapPushSi(
      absl::StrCat("https://n.example/n/", NotificationToBase64(Signed('j'))));
  EXPECT_TRUE(by_href.ok()) << by_href.status();
}

TEST_F(PushHandlerTest, MalformedWapPushSi) {
  for (const char* bad : {"", "<si></si>", "<si><indication>x</indication></si>",
                          "<si><indication href=x></indication></si>", "<si><indication href=\"abc",
                          "https://n.example/n/"}) {
    auto r = handler_->HandleWapPushSi(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad << ": " << r.status();
  }
  EXPECT_THAT(notifier_.acks(), IsEmpty());
}

TEST(SiHrefTest, DecodesEntities) {
  EXPECT_EQ(*SiHref("<si><indication href='https://a/b?x=1&amp;y=2'/></si>"),
            "https://a/b?x=1&y=2");
  EXPECT_EQ(*SiHref("  https://a/b  "), "https://a/b");
}

TEST_F(PushHandlerTest, CreateValidatesOptions) {
  PushHandler::Options p;
  EXPECT_THAT(PushHandler::Create(p).status().message(), HasSubstr("client"));
  p.client = client_.get();
  EXPECT_THAT(PushHandler::Create(p).status().message(), HasSubstr("state_dir"));
  p.state_dir = dir_ + "/s2";
  EXPECT_THAT(PushHandler::Create(p).status().message(), HasSubstr("notifier_address"));
  p.notifier_address = "127.0.0.1:1";
  EXPECT_THAT(PushHandler::Create(p).status().message(), HasSubstr("ca_file"));
  p.security.plaintext = true;
  p.trusted_keys = {"short"};
  EXPECT_THAT(PushHandler::Create(p).status().message(), HasSubstr("trusted_keys"));
}

}  // namespace
}  // namespace updraft::device
