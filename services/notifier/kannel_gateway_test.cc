#include "services/notifier/kannel_gateway.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

TEST(SplitBinarySmsTest, ShortPayloadIsOnePortAddressedSms) {
  auto parts = SplitBinarySms(std::string(133, 'x'), 7);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].udh, std::string("\x06\x05\x04\x3E\x81\x00\x00", 7));
  EXPECT_EQ(parts[0].udh.size() + parts[0].data.size(), 140u);
}

TEST(SplitBinarySmsTest, LongPayloadIsConcatenated) {
  std::string payload(300, 'y');
  auto parts = SplitBinarySms(payload, 9);
  ASSERT_EQ(parts.size(), 3u);
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].udh, std::string("\x0B\x05\x04\x3E\x81\x00\x00\x00\x03\x09\x03", 11) +
                                static_cast<char>(i + 1));
    EXPECT_LE(parts[i].udh.size() + parts[i].data.size(), 140u);
    joined += parts[i].data;
  }
  EXPECT_EQ(joined, payload);
}

TEST(ValidateMsisdnTest, AcceptsE164Only) {
  EXPECT_TRUE(ValidateMsisdn("+4915112345678").ok());
  EXPECT_FALSE(ValidateMsisdn("4915112345678").ok());
  EXPECT_FALSE(ValidateMsisdn("+49 151").ok());
  EXPECT_FALSE(ValidateMsisdn("+1234").ok());
  EXPECT_FALSE(ValidateMsisdn("+1234567890123456").ok());
  EXPECT_FALSE(ValidateMsisdn("").ok());
}

TEST(BuildPapPushTest, CarriesAddressAndEscapedSi) {
  WapPushGateway::Push p;
  p.msisdn = "+4915112345678";
  p.push_id = "n1.dev-1.0";
  p.href = "https://u.example/n/a&b";
  p.text = "Update <demo>";
  p.created = absl::FromUnixSeconds(1767225600);
  p.expires = absl::FromUnixSeconds(1767225600 + 3600);
  PapRequest r = BuildPapPush(p);
  EXPECT_TRUE(absl::StartsWith(r.content_type, "multipart/related; boundary="));
  EXPECT_TRUE(absl::StrContains(r.body, "address-value=\"WAPPUSH=+4915112345678/TYPE=PLMN@"));
  EXPECT_TRUE(absl::StrContains(r.body, "delivery-method=\"unconfirmed\""));
  EXPECT_TRUE(absl::StrContains(r.body, "href=\"https://u.example/n/a&amp;b\""));
  EXPECT_TRUE(absl::StrContains(r.body, "created=\"2026-01-01T00:00:00Z\""));
  EXPECT_TRUE(absl::StrContains(r.body, "si-expires=\"2026-01-01T01:00:00Z\""));
  EXPECT_TRUE(absl::StrContains(r.body, ">Update &lt;demo&gt;</indication>"));
}

TEST(KannelGatewayTest, UnreachableGatewayIsUnavailable) {
  KannelSmsGateway sms(
      {.sendsms_url = "http://127.0.0.1:1/cgi-bin/sendsms", .timeout = absl::Seconds(2)});
  EXPECT_EQ(sms.SendBinary("+4915112345678", "abc").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sms.SendBinary("nope", "abc").code(), absl::StatusCode::kInvalidArgument);
  KannelWapPushGateway wap({.ppg_url = "http://127.0.0.1:1/wappush", .timeout = absl::Seconds(2)});
  WapPushGateway::Push p;
  p.msisdn = "+4915112345678";
  EXPECT_EQ(wap.Send(p).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft::notifier
