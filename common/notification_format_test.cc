#include "common/notification_format.h"

#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

// The vectors' key: seed 00 01 02 ... 1f.
Ed25519KeyPair VectorKey() {
  std::string seed;
  for (int i = 0; i < 32; ++i) seed.push_back(static_cast<char>(i));
  return *Ed25519KeyPair::FromPrivateKey(seed);
}

NotificationFields VectorFields() {
  NotificationFields f;
  f.id = absl::HexStringToBytes("0123456789abcdef");
  f.server_address = "updraft.example.com:443";
  f.software_name = "demo-app";
  f.location = "rel_5f2c9a";
  f.timestamp_unix = 1767225600;  // 2026-01-01T00:00:00Z
  f.expires_at_unix = 1767225600 + 86400;
  return f;
}

class NotificationFormatTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1767225600 + 60)};
  Ed25519KeyPair key_ = VectorKey();
  NotificationVerifier verifier_{{.trusted_keys = {key_.public_key()}, .clock = &clock_}};
};

TEST_F(NotificationFormatTest, RoundTripsAndFitsOneSms) {
  auto bytes = EncodeNotification(VectorFields(), key_);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  // 88 fixed + 23 + 8 + 10 = 129: under the 133 bytes of a port-addressed SMS.
  EXPECT_EQ(bytes->size(), 129u);
  auto f = verifier_.Accept(*bytes);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->server_address, "updraft.example.com:443");
  EXPECT_EQ(f->software_name, "demo-app");
  EXPECT_EQ(f->location, "rel_5f2c9a");
  EXPECT_EQ(f->timestamp_unix, 1767225600);
  EXPECT_EQ(NotificationIdHex(f->id), "0123456789abcdef");
}

TEST_F(NotificationFormatTest, RejectsForgedAlteredReplayedAndStale) {
  std::string good = *EncodeNotification(VectorFields(), key_);
  std::string altered = good;
  altered[30] ^= 0x01;  // inside the server address
  EXPECT_EQ(verifier_.Accept(altered).status().code(), absl::StatusCode::kUnauthenticated);
  auto other = *Ed25519KeyPair::Generate();
  EXPECT_EQ(verifier_.Accept(*EncodeNotification(VectorFields(), other)).status().message(),
            "notification signed by an unknown key");
  // A forgery naming the trusted key ID but signed by another key.
  std::string forged = *EncodeNotification(VectorFields(), other);
  forged.replace(1, 4, NotificationKeyId(key_.public_key()));
  EXPECT_EQ(verifier_.Accept(forged).status().message(), "notification signature does not verify");
  ASSERT_TRUE(verifier_.Accept(good).ok());
  EXPECT_EQ(verifier_.Accept(good).status().code(), absl::StatusCode::kAlreadyExists);
  NotificationFields late = VectorFields();
  late.id = absl::HexStringToBytes("1111111111111111");
  late.expires_at_unix = 1767225600 + 30;
  EXPECT_EQ(verifier_.Accept(*EncodeNotification(late, key_)).status().message(),
            "notification expired");
  NotificationFields future = VectorFields();
  future.id = absl::HexStringToBytes("2222222222222222");
  future.timestamp_unix += 3600;
  future.expires_at_unix += 3600;
  EXPECT_EQ(verifier_.Accept(*EncodeNotification(future, key_)).status().message(),
            "notification timestamped in the future");
}

TEST_F(NotificationFormatTest, EncodeValidatesFields) {
  NotificationFields f = VectorFields();
  f.id = "short";
  EXPECT_EQ(EncodeNotification(f, key_).status().code(), absl::StatusCode::kInvalidArgument);
  f = VectorFields();
  f.location.clear();
  EXPECT_EQ(EncodeNotification(f, key_).status().message(), "location is required");
  f = VectorFields();
  f.software_name = std::string(256, 'x');
  EXPECT_EQ(EncodeNotification(f, key_).status().message(),
            "software_name is longer than 255 bytes");
  f = VectorFields();
  f.expires_at_unix = f.timestamp_unix;
  EXPECT_EQ(EncodeNotification(f, key_).status().code(), absl::StatusCode::kInvalidArgument);
  f = VectorFields();
  f.timestamp_unix = -1;
  EXPECT_EQ(EncodeNotification(f, key_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NotificationFormatTest, SurvivesEveryTruncationAndRandomBytes) {
  std::string good = *EncodeNotification(VectorFields(), key_);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseNotification(good.substr(0, n)).ok()) << n;
    EXPECT_FALSE(verifier_.Accept(good.substr(0, n)).ok()) << n;
  }
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0 && junk.size() > 0) junk[0] = 1;  // get past the version byte
    EXPECT_FALSE(verifier_.Accept(junk).ok());
  }
  // Every single-byte change of a good notification is rejected.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x40;
    EXPECT_FALSE(verifier_.Accept(bad).ok()) << i;
  }
}

TEST_F(NotificationFormatTest, HrefCarriesTheNotification) {
  std::string good = *EncodeNotification(VectorFields(), key_);
  std::string href = "https://updraft.example.com/n/" + NotificationToBase64(good);
  EXPECT_EQ(*NotificationFromHref(href), good);
  EXPECT_FALSE(NotificationFromHref("https://updraft.example.com/n/").ok());
  EXPECT_FALSE(NotificationFromHref("https://x/n/***").ok());
}

TEST_F(NotificationFormatTest, SeenIdsAreBounded) {
  NotificationVerifier small(
      {.trusted_keys = {key_.public_key()}, .clock = &clock_, .max_seen = 4});
  for (int i = 0; i < 10; ++i) {
    NotificationFields f = VectorFields();
    f.id = std::string(7, 'a') + static_cast<char>(i);
    ASSERT_TRUE(small.Accept(*EncodeNotification(f, key_)).ok()) << i;
  }
  NotificationFields last = VectorFields();
  last.id = std::string(7, 'a') + static_cast<char>(9);
  EXPECT_EQ(small.Accept(*EncodeNotification(last, key_)).status().code(),
            absl::StatusCode::kAlreadyExists);
}

// common/testdata/notification_vectors.txt: "name verify_at expected hex" per
// line. Ed25519 is deterministic, so the valid vector must be reproduced
// byte for byte from VectorFields() and the seed key.
TEST(NotificationVectorsTest, MatchTheCheckedInFile) {
  std::ifstream in("common/testdata/notification_vectors.txt");
  ASSERT_TRUE(in.good()) << "vectors file missing";
  std::string line;
  int checked = 0;
  Ed25519KeyPair key = VectorKey();
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_EQ(cols.size(), 4u) << line;
    int64_t at = std::stoll(cols[1]);
    std::string bytes = absl::HexStringToBytes(cols[3]);
    FakeClock clock(absl::FromUnixSeconds(at));
    NotificationVerifier v({.trusted_keys = {key.public_key()}, .clock = &clock});
    auto r = v.Accept(bytes);
    std::string got = r.ok() ? "OK" : std::string(absl::StatusCodeToString(r.status().code()));
    EXPECT_EQ(got, cols[2]) << cols[0] << ": " << r.status();
    if (cols[0] == "valid") {
      EXPECT_EQ(absl::BytesToHexString(*EncodeNotification(VectorFields(), key)), cols[3]);
    }
    ++checked;
  }
  EXPECT_GE(checked, 6);
}

}  // namespace
}  // namespace updraft
