#include "services/auth/device_csv.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class DeviceCsvTest : public ::testing::Test {
 protected:
  std::string ed_ = absl::WebSafeBase64Escape(Ed25519KeyPair::Generate()->public_key());
  std::string p256_ = absl::WebSafeBase64Escape(EcdsaP256KeyPair::Generate()->public_key());

  std::string Error(const std::string& csv) {
    auto parsed = ParseDeviceCsv(csv, 100);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << csv;
    return std::string(parsed.status().message());
  }
};

TEST_F(DeviceCsvTest, ParsesBothKeyTypesAttributesAndQuoting) {
  std::string csv = absl::StrCat(
      "\xEF\xBB\xBF"
      "device_id,key_type,public_key,model,carrier\r\n",
      "imei-1,ed25519,", ed_, ",Pixel-9,\"Demo, Tel \"\"Prime\"\"\"\r\n", "\n",
      " imei-2 , ecdsa-p256 ,", p256_, "=,,\n", "imei-3,ed25519,", ed_, ",\"multi\nline\",x");
  auto parsed = ParseDeviceCsv(csv, 100);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  const DeviceRecord& a = (*parsed)[0].device;
  EXPECT_EQ((*parsed)[0].row, 2);
  EXPECT_EQ(a.device_id, "imei-1");
  EXPECT_EQ(a.key_type, KeyType::kEd25519);
  EXPECT_EQ(a.public_key.size(), 32u);
  EXPECT_EQ(a.status, DeviceStatus::kAccepted);
  EXPECT_EQ(a.attributes.at("carrier"), "Demo, Tel \"Prime\"");
  const DeviceRecord& b = (*parsed)[1].device;
  EXPECT_EQ((*parsed)[1].row, 4);  // the empty row 3 is skipped
  EXPECT_EQ(b.device_id, "imei-2");
  EXPECT_EQ(b.key_type, KeyType::kEcdsaP256);
  EXPECT_EQ(b.public_key.size(), 65u);
  EXPECT_TRUE(b.attributes.empty());  // empty values set nothing
  EXPECT_EQ((*parsed)[2].device.attributes.at("model"), "multi\nline");
}

TEST_F(DeviceCsvTest, HeaderProblemsAreRowOne) {
  EXPECT_EQ(Error(""), "the CSV is empty; row 1 must be the header");
  EXPECT_EQ(Error("id,key,public_key\n"),
            "row 1: the header must start with device_id,key_type,public_key; got "
            "'id,key,public_key'");
  EXPECT_EQ(Error("device_id,key_type,public_key,model,model\n"),
            "row 1: attribute column model appears twice");
  EXPECT_EQ(Error("device_id,key_type,public_key,bad name\n"),
            "row 1: attribute column 'bad name' must be 1..64 characters of [A-Za-z0-9._:-]");
  EXPECT_EQ(Error("device_id,key_type,public_key\n"), "the CSV has no device rows");
}

TEST_F(DeviceCsvTest, EveryBadRowIsNamed) {
  const std::string h = "device_id,key_type,public_key,model\n";
  const std::string ok = absl::StrCat("ok-1,ed25519,", ed_, ",m\n");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "ok-2,ed25519,", ed_, "\n")),
            "row 3: has 3 fields; the header has 4");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "bad id,ed25519,", ed_, ",m\n")),
            "row 3: device_id 'bad id' may contain only [A-Za-z0-9._:-]");
  EXPECT_EQ(Error(absl::StrCat(h, ",ed25519,", ed_, ",m\n")), "row 2: device_id is required");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,rsa,", ed_, ",m\n")),
            "row 3: key_type: unknown key type 'rsa'; expected ed25519 or ecdsa-p256");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ed25519,***,m\n")), "row 3: public_key is not base64url");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ecdsa-p256,", ed_, ",m\n")),
            "row 3: public_key: a P-256 public key is the 65-byte uncompressed point "
            "(0x04 || X || Y), got 32 bytes");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ed25519,", p256_, ",m\n")),
            "row 3: public_key: an Ed25519 public key is 32 raw bytes, got 65");
  EXPECT_EQ(Error(absl::StrCat(h, ok, ok)), "row 3: device ok-1 appears again (first in row 2)");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ed25519,", ed_, ",", std::string(1025, 'v'), "\n")),
            "row 3: attributes[model]: at most 1024 bytes allowed");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ed25519,", ed_, ",\"open\n")),
            "row 3: unterminated quoted field");
  EXPECT_EQ(Error(absl::StrCat(h, ok, "x,ed25519,", ed_, ",\"a\"b\n")),
            "row 3: unexpected character after a closing quote");
  EXPECT_EQ(Error(absl::StrCat(h, "x,ed25519,", ed_, ",a\"b\n")),
            "row 2: quote inside an unquoted field");
  EXPECT_EQ(Error(absl::StrCat(h, "x,ed25519,", ed_, ",\xff\n")), "the CSV is not valid UTF-8");
}

TEST_F(DeviceCsvTest, RowLimit) {
  std::string csv = "device_id,key_type,public_key\n";
  for (int i = 0; i < 4; ++i) absl::StrAppend(&csv, "d", i, ",ed25519,", ed_, "\n");
  EXPECT_TRUE(ParseDeviceCsv(csv, 4).ok());
  auto over = ParseDeviceCsv(csv, 3);
  EXPECT_EQ(over.status().message(), "the CSV has more than 3 device rows; split it");
}

TEST_F(DeviceCsvTest, GarbageNeverCrashes) {
  for (const std::string& s :
       {std::string("\""), std::string(","), std::string("\n\n\n"), std::string("\r"),
        std::string("device_id,key_type,public_key\n\"", 31), std::string("\0\0\0", 3),
        std::string("device_id,key_type,public_key\n,,\n")}) {
    EXPECT_FALSE(ParseDeviceCsv(s, 10).ok());
  }
}

}  // namespace
}  // namespace updraft
