#include "sdk/device/release_trust.h"

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class ReleaseTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = *PublisherKeys::FromRawKeys({publisher_.public_key()});
    release_.set_release_id("rel_1");
    release_.set_package_id("pkg_1");
    release_.set_package_name("maps");
    release_.set_version("3.0.0");
    release_.mutable_artifact()->set_sha256(Sha256Hex("bytes"));
    release_.mutable_artifact()->set_size(10);
    release_.mutable_artifact()->set_chunk_size(1024);
    release_.mutable_artifact()->add_chunk_sha256(Sha256("bytes"));
    Sign(release_, publisher_, kNow + absl::Hours(1));
  }

  void Sign(v1::Release& r, const Ed25519KeyPair& key, absl::Time expires) {
    auto m = ReleaseMetadataFor(r, kNow - absl::Hours(1), expires);
    ASSERT_TRUE(m.ok()) << m.status();
    *r.mutable_signed_metadata() = *SignReleaseMetadata(*m, key);
  }

  void ExpectRefused(const v1::Release& r, absl::string_view why) {
    absl::Status s = VerifyReleaseTrust(r, keys_, kNow);
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr(why));
    EXPECT_EQ(ResultCodeOf(s, v1::UNDEFINED_ERROR), v1::PACKAGE_VALIDATION_FAILED);
  }

  Ed25519KeyPair publisher_ = *Ed25519KeyPair::Generate();
  PublisherKeys keys_;
  v1::Release release_;
};

TEST_F(ReleaseTrustTest, SignedMatchingFreshReleaseIsTrusted) {
  EXPECT_TRUE(VerifyReleaseTrust(release_, keys_, kNow).ok());
}

TEST_F(ReleaseTrustTest, ADeviceClockBehindTheIssueTimeIsNoReasonToRefuse) {
  EXPECT_TRUE(VerifyReleaseTrust(release_, keys_, kNow - absl::Hours(48)).ok());
}

TEST_F(ReleaseTrustTest, WithoutTrustedKeysUnsignedReleasesAreAccepted) {
  release_.clear_signed_metadata();
  EXPECT_TRUE(VerifyReleaseTrust(release_, PublisherKeys(), kNow).ok());
}

TEST_F(ReleaseTrustTest, UnsignedForgedTamperedOrStaleReleasesAreRefused) {
  v1::Release r = release_;
  r.clear_signed_metadata();
  ExpectRefused(r, "not signed");

  r = release_;
  Sign(r, *Ed25519KeyPair::Generate(), kNow + absl::Hours(1));
  ExpectRefused(r, "not a trusted publisher key");

  r = release_;
  (*r.mutable_signed_metadata()->mutable_signature())[5] ^= 1;
  ExpectRefused(r, "does not verify");

  // A catalog (or mirror) swapping the artifact under valid metadata.
  r = release_;
  r.mutable_artifact()->set_sha256(Sha256Hex("other bytes"));
  ExpectRefused(r, "artifact SHA-256 does not match");
  r = release_;
  (*r.mutable_artifact()->mutable_chunk_sha256(0))[0] ^= 1;
  ExpectRefused(r, "hash of chunk 0");

  // Rollback disguised as a newer version: the signed version differs.
  r = release_;
  r.set_version("9.0.0");
  ExpectRefused(r, "version does not match");

  // Freeze: metadata replayed after its expiry.
  r = release_;
  Sign(r, publisher_, kNow);
  ExpectRefused(r, "expired");
}

}  // namespace
}  // namespace updraft::device
