#include "common/crypto.h"

#include <cstdio>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(CryptoTest, SignAndVerify) {
  auto kp = Ed25519KeyPair::Generate();
  ASSERT_TRUE(kp.ok());
  auto sig = kp->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(kp->public_key(), "hello", *sig));
  EXPECT_FALSE(Ed25519Verify(kp->public_key(), "hellO", *sig));
  std::string bad = *sig;
  bad[0] ^= 1;
  EXPECT_FALSE(Ed25519Verify(kp->public_key(), "hello", bad));
  EXPECT_FALSE(Ed25519Verify("short", "hello", *sig));
  EXPECT_FALSE(Ed25519Verify(kp->public_key(), "hello", "short"));
}

TEST(CryptoTest, Rfc8032TestVector1) {
  std::string seed =
      absl::HexStringToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto kp = Ed25519KeyPair::FromPrivateKey(seed);
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(absl::BytesToHexString(kp->public_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(absl::BytesToHexString(*kp->Sign("")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(CryptoTest, RejectsWrongKeySize) { EXPECT_FALSE(Ed25519KeyPair::FromPrivateKey("abc").ok()); }

TEST(CryptoTest, Sha256KnownAnswerAndIncremental) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
  EXPECT_EQ(h.Finish(), Sha256(""));  // reset after Finish
}

TEST(CryptoTest, IsSha256Hex) {
  EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Hex("ABC"));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'g')));
}

TEST(CryptoTest, KeyFileRoundTrip) {
  std::string path = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/k";
  auto kp = Ed25519KeyPair::Generate();
  ASSERT_TRUE(WriteKeyFile(path, kp->private_key()).ok());
  auto raw = ReadKeyFile(path);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, kp->private_key());
  EXPECT_EQ(ReadKeyFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace updraft
