// The notifier's SMS and WAP Push channels through a real Kannel on loopback
// (scripts/kannel.sh, started by ./dev.sh test): bearerbox, smsbox, wapbox
// and fakesmsc playing the handsets. The test reads what fakesmsc printed,
// decodes it as a handset would (binary SMS on port 16001; WSP push + WBXML
// SI decoded with wbxml2xml) and checks that the device side accepts the
// notification and rejects a tampered one. Kannel is an external process, so
// the test polls fakesmsc's output (bounded) rather than using a fake clock.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/notifier/notifier_server.h"

namespace updraft {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string UrlDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size()) {
      int v = 0;
      absl::SimpleHexAtoi(in.substr(i + 1, 2), &v);
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// One message fakesmsc printed: "<from to udh UDH data DATA>".
struct HandsetMessage {
  std::string to;
  std::string udh;
  std::string data;
};

std::vector<HandsetMessage> ReadHandsetMessages(const std::string& path,
                                                const std::string& msisdn) {
  std::ifstream in(path);
  std::string line;
  std::vector<HandsetMessage> out;
  while (std::getline(in, line)) {
    size_t open = line.find("Got message");
    if (open == std::string::npos) continue;
    open = line.find('<', open);
    size_t close = line.rfind('>');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::vector<std::string> f =
        absl::StrSplit(line.substr(open + 1, close - open - 1), ' ', absl::SkipEmpty());
    if (f.size() != 6 || f[1] != msisdn || f[2] != "udh" || f[4] != "data") continue;
    out.push_back({f[1], UrlDecode(f[3]), UrlDecode(f[5])});
  }
  return out;
}

// Waits (bounded) until `count` messages for `msisdn` arrived; reassembles
// concatenated ones (UDH element 00 03 ref total seq). Returns the payloads
// with the destination port of each.
std::vector<std::pair<int, std::string>> AwaitPayloads(const std::string& msisdn, size_t count) {
  const std::string path = Env("UPDRAFT_TEST_FAKESMSC_LOG");
  for (int i = 0; i < 100; ++i) {
    std::vector<HandsetMessage> got = ReadHandsetMessages(path, msisdn);
    std::vector<std::pair<int, std::string>> whole;
    std::map<int, std::map<int, std::string>> parts;
    std::map<int, int> totals, ports;
    for (const HandsetMessage& m : got) {
      const std::string& u = m.udh;
      int port = -1, ref = -1, total = 0, seq = 0;
      for (size_t p = 1; p + 1 < u.size();) {  // walk the information elements
        uint8_t iei = u[p], len = u[p + 1];
        if (iei == 0x05 && len == 4 && p + 3 < u.size()) {
          port = (static_cast<uint8_t>(u[p + 2]) << 8) | static_cast<uint8_t>(u[p + 3]);
        }
        if (iei == 0x00 && len == 3 && p + 4 < u.size()) {
          ref = static_cast<uint8_t>(u[p + 2]);
          total = static_cast<uint8_t>(u[p + 3]);
          seq = static_cast<uint8_t>(u[p + 4]);
        }
        p += 2 + len;
      }
      if (ref < 0) {
        whole.push_back({port, m.data});
      } else {
        parts[ref][seq] = m.data;
        totals[ref] = total;
        ports[ref] = port;
      }
    }
    for (auto& [ref, seqs] : parts) {
      if (static_cast<int>(seqs.size()) != totals[ref]) continue;
      std::string joined;
      for (auto& [seq, data] : seqs) joined += data;
      whole.push_back({ports[ref], joined});
    }
    if (whole.size() >= count) return whole;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

// The WBXML body of a WSP Push PDU: TID, type 0x06, uintvar header length,
// headers, body.
std::string WspPushBody(const std::string& pdu) {
  if (pdu.size() < 3 || pdu[1] != 0x06) return "";
  size_t p = 2;
  uint32_t len = 0;
  while (p < pdu.size()) {
    uint8_t b = pdu[p++];
    len = (len << 7) | (b & 0x7f);
    if (!(b & 0x80)) break;
  }
  if (p + len > pdu.size()) return "";
  return pdu.substr(p + len);
}

// Decodes a WBXML SI with wbxml2xml and returns the indication's href.
std::string SiHref(const std::string& wbxml) {
  const std::string dir = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  const std::string in = dir + "/si.wbxml", out = dir + "/si.xml";
  std::ofstream(in, std::ios::binary) << wbxml;
  std::string cmd = "wbxml2xml -o " + out + " " + in + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return "";
  std::ifstream xml(out);
  std::stringstream ss;
  ss << xml.rdbuf();
  std::string s = ss.str();
  size_t h = s.find("href=\"");
  if (h == std::string::npos) return "";
  h += 6;
  return s.substr(h, s.find('"', h) - h);
}

class NotifierKannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("UPDRAFT_TEST_KANNEL_SENDSMS").empty())
        << "run with ./dev.sh test (it starts Kannel through scripts/kannel.sh)";
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    keys_.Add(signer_.public_key());
    o_.listen_address = "127.0.0.1:0";
    o_.pg_uri = env_->pg_uri();
    o_.redis = env_->redis_options();
    o_.redis_key_prefix = env_->redis_prefix();
    o_.key_source_override = &keys_;
    o_.clock = &clock_;
    o_.delivery_poll_interval = absl::ZeroDuration();
    o_.sendsms_url = "http://" + Env("UPDRAFT_TEST_KANNEL_SENDSMS") + "/cgi-bin/sendsms";
    o_.ppg_url = "http://" + Env("UPDRAFT_TEST_KANNEL_PPG") + "/wappush";
    o_.sendsms_username = o_.ppg_username = Env("UPDRAFT_TEST_KANNEL_USER");
    o_.sendsms_password = o_.ppg_password = Env("UPDRAFT_TEST_KANNEL_PASSWORD");
    o_.wap_href_base = "https://updraft.example/n/";
    // A number no other run uses.
    msisdn_ = "+4917";
    for (unsigned char c : RandomBytes(9)) msisdn_.push_back('0' + c % 10);
  }

  std::unique_ptr<notifier::NotifierServer> Start(const notifier::NotifierServer::Options& o) {
    auto s = notifier::NotifierServer::Create(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  absl::StatusOr<v1::AnnounceResponse> Announce(notifier::NotifierServer& s, v1::Channel channel) {
    auto stub = v1::Notifier::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(s.port()),
                                                          grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.AddMetadata(
        "authorization",
        "Bearer " + signer_.Issue("ak_1", kOperatorAudience, {.role = "publisher"})->token);
    v1::AnnounceRequest req;
    req.set_software_name("com.example.navigation-maps");
    req.set_location("rel_8c1d2e3f4a5b");
    req.set_server_address("updraft.example.com:443");
    auto* t = req.add_targets();
    t->set_device_id("handset-1");
    t->set_msisdn(msisdn_);
    t->add_channels(channel);
    v1::AnnounceResponse resp;
    grpc::Status st = stub->Announce(&ctx, req, &resp);
    if (!st.ok()) return absl::UnknownError(st.error_message());
    // The device side trusts the notifier's published key.
    grpc::ClientContext kctx;
    v1::GetNotificationKeysResponse keys;
    if (!stub->GetNotificationKeys(&kctx, {}, &keys).ok()) return absl::UnknownError("keys");
    device_key_ = keys.public_keys(0);
    return resp;
  }

  NotificationVerifier DeviceSide() {
    return NotificationVerifier({.trusted_keys = {device_key_}, .clock = &clock_});
  }

  FakeClock clock_{absl::Now()};
  std::unique_ptr<TestEnv> env_;
  StaticKeySource keys_;
  TokenSigner signer_{*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)};
  notifier::NotifierServer::Options o_;
  std::string msisdn_;
  std::string device_key_;
};

TEST_F(NotifierKannelTest, BinarySmsReachesTheHandsetAndVerifies) {
  auto server = Start(o_);
  ASSERT_NE(server, nullptr);
  auto resp = Announce(*server, v1::CHANNEL_SMS);
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto pass = server->RunDeliveryPass();
  ASSERT_TRUE(pass.ok()) << pass.status();
  auto payloads = AwaitPayloads(msisdn_, 1);
  ASSERT_EQ(payloads.size(), 1u) << "fakesmsc printed nothing for " << msisdn_;
  EXPECT_EQ(payloads[0].first, 16001);
  const std::string& bytes = payloads[0].second;
  EXPECT_LE(bytes.size(), 169u);
  NotificationVerifier device = DeviceSide();
  std::string tampered = bytes;
  tampered[40] ^= 0x01;
  EXPECT_EQ(device.Accept(tampered).status().code(), absl::StatusCode::kUnauthenticated);
  auto f = device.Accept(bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(NotificationIdHex(f->id), resp->notification_id());
  EXPECT_EQ(f->location, "rel_8c1d2e3f4a5b");
  EXPECT_EQ(device.Accept(bytes).status().code(), absl::StatusCode::kAlreadyExists);  // replay
}

TEST_F(NotifierKannelTest, WapPushSiHrefCarriesTheSignedNotification) {
  auto server = Start(o_);
  ASSERT_NE(server, nullptr);
  auto resp = Announce(*server, v1::CHANNEL_WAP_PUSH);
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto pass = server->RunDeliveryPass();
  ASSERT_TRUE(pass.ok()) << pass.status();
  auto payloads = AwaitPayloads(msisdn_, 1);
  ASSERT_EQ(payloads.size(), 1u) << "fakesmsc printed nothing for " << msisdn_;
  EXPECT_EQ(payloads[0].first, 2948);  // WAP Push connectionless
  std::string href = SiHref(WspPushBody(payloads[0].second));
  ASSERT_TRUE(absl::StartsWith(href, "https://updraft.example/n/")) << href;
  auto bytes = NotificationFromHref(href);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  NotificationVerifier device = DeviceSide();
  std::string tampered = *bytes;
  tampered.back() ^= 0x01;
  EXPECT_EQ(device.Accept(tampered).status().code(), absl::StatusCode::kUnauthenticated);
  auto f = device.Accept(*bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(NotificationIdHex(f->id), resp->notification_id());
}

TEST_F(NotifierKannelTest, GatewayDownQueuesRetriesAndReports) {
  notifier::NotifierServer::Options down = o_;
  down.sendsms_url = "http://127.0.0.1:1/cgi-bin/sendsms";  // nothing listens
  auto a = Start(down);
  ASSERT_NE(a, nullptr);
  auto resp = Announce(*a, v1::CHANNEL_SMS);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_TRUE(a->RunDeliveryPass().ok());
  double errors = -1;
  for (const auto& family : a->registry().Collect()) {
    if (family.name != "updraft_notifier_gateway_errors_total") continue;
    for (const auto& m : family.metric) {
      if (m.label.size() == 1 && m.label[0].value == "sms") errors = m.counter.value;
    }
  }
  EXPECT_EQ(errors, 1);
  a.reset();
  // Another replica with the gateway back retries it from the outbox after
  // the backoff; the handset gets it.
  auto b = Start(o_);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->RunDeliveryPass()->claimed, 0);  // still backing off
  clock_.Advance(absl::Seconds(3));
  ASSERT_EQ(b->RunDeliveryPass()->claimed, 1);
  auto payloads = AwaitPayloads(msisdn_, 1);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_TRUE(DeviceSide().Accept(payloads[0].second).ok());
}

}  // namespace
}  // namespace updraft
