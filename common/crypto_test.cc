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

TEST(P256Test, SignAndVerify) {
  auto kp = EcdsaP256KeyPair::Generate();
  ASSERT_TRUE(kp.ok()) << kp.status();
  EXPECT_EQ(kp->public_key().size(), kP256PublicKeySize);
  EXPECT_EQ(kp->public_key()[0], 0x04);
  auto sig = kp->Sign("hello");
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_EQ(sig->size(), kP256SignatureSize);
  EXPECT_TRUE(EcdsaP256Verify(kp->public_key(), "hello", *sig));
  EXPECT_FALSE(EcdsaP256Verify(kp->public_key(), "hellO", *sig));
  std::string bad = *sig;
  bad[40] ^= 1;
  EXPECT_FALSE(EcdsaP256Verify(kp->public_key(), "hello", bad));
  EXPECT_FALSE(EcdsaP256Verify(kp->public_key(), "hello", std::string(64, '\0')));
  EXPECT_FALSE(EcdsaP256Verify(kp->public_key(), "hello", "short"));
  EXPECT_FALSE(EcdsaP256Verify("short", "hello", *sig));
  auto other = EcdsaP256KeyPair::Generate();
  EXPECT_FALSE(EcdsaP256Verify(other->public_key(), "hello", *sig));
  // Same private key, same public key.
  EXPECT_EQ(EcdsaP256KeyPair::FromPrivateKey(kp->private_key())->public_key(), kp->public_key());
}

// RFC 6979 A.2.5: the P-256 key, and the deterministic signature of "sample"
// with SHA-256, which any correct verifier accepts.
TEST(P256Test, Rfc6979KnownAnswer) {
  auto kp = EcdsaP256KeyPair::FromPrivateKey(
      absl::HexStringToBytes("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"));
  ASSERT_TRUE(kp.ok()) << kp.status();
  EXPECT_EQ(absl::BytesToHexString(kp->public_key()),
            "04"
            "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
            "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
  std::string sig = absl::HexStringToBytes(
      "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  EXPECT_TRUE(EcdsaP256Verify(kp->public_key(), "sample", sig));
  EXPECT_FALSE(EcdsaP256Verify(kp->public_key(), "samplf", sig));
}

TEST(P256Test, RejectsBadPrivateAndPublicKeys) {
  EXPECT_EQ(EcdsaP256KeyPair::FromPrivateKey(std::string(32, '\0')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EcdsaP256KeyPair::FromPrivateKey(std::string(32, '\xff')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EcdsaP256KeyPair::FromPrivateKey("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto kp = EcdsaP256KeyPair::Generate();
  EXPECT_TRUE(ValidatePublicKey(KeyType::kEcdsaP256, kp->public_key()).ok());
  std::string off_curve = kp->public_key();
  off_curve[64] ^= 1;
  EXPECT_EQ(ValidatePublicKey(KeyType::kEcdsaP256, off_curve).message(),
            "the P-256 public key is not a point on the curve");
  std::string compressed_tag = kp->public_key();
  compressed_tag[0] = 0x06;
  EXPECT_FALSE(ValidatePublicKey(KeyType::kEcdsaP256, compressed_tag).ok());
  EXPECT_FALSE(ValidatePublicKey(KeyType::kEcdsaP256, std::string(33, '\x02')).ok());
  EXPECT_FALSE(ValidatePublicKey(KeyType::kEd25519, kp->public_key()).ok());
  EXPECT_TRUE(ValidatePublicKey(KeyType::kEd25519, std::string(32, 'k')).ok());
}

TEST(KeyTypeTest, NamesRoundTripAndDispatch) {
  for (KeyType t : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    EXPECT_EQ(*ParseKeyType(KeyTypeName(t)), t);
  }
  EXPECT_EQ(ParseKeyType("rsa").status().code(), absl::StatusCode::kInvalidArgument);
  auto ed = Ed25519KeyPair::Generate();
  auto p256 = EcdsaP256KeyPair::Generate();
  std::string ed_sig = *ed->Sign("m");
  std::string p_sig = *p256->Sign("m");
  EXPECT_TRUE(VerifySignature(KeyType::kEd25519, ed->public_key(), "m", ed_sig));
  EXPECT_TRUE(VerifySignature(KeyType::kEcdsaP256, p256->public_key(), "m", p_sig));
  EXPECT_FALSE(VerifySignature(KeyType::kEcdsaP256, ed->public_key(), "m", ed_sig));
  EXPECT_FALSE(VerifySignature(KeyType::kEd25519, p256->public_key(), "m", p_sig));
}

}  // namespace
}  // namespace updraft

namespace updraft {
namespace {

TEST(CryptoTest, KeyFileAcceptsPaddedBase64url) {
  // As `head -c32 /dev/urandom | basenc --base64url` writes it.
  std::string path = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/p";
  FILE* f = fopen(path.c_str(), "w");
  fputs("uOqWRGpvMLLeny7SaHn772BrbWvwedFU_SgXZBuhpNU=\n", f);
  fclose(f);
  auto raw = ReadKeyFile(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->size(), 32u);
}

}  // namespace
}  // namespace updraft
