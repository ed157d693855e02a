#include "common/release_metadata.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::Release SampleRelease() {
  v1::Release r;
  r.set_release_id("rel_1");
  r.set_package_id("pkg_1");
  r.set_package_name("maps");
  r.set_version("2.1.0");
  v1::ArtifactManifest* a = r.mutable_artifact();
  a->set_sha256(std::string(64, 'a'));
  a->set_size(3000);
  a->set_chunk_size(1024);
  for (int i = 0; i < 3; ++i) a->add_chunk_sha256(std::string(32, static_cast<char>('0' + i)));
  return r;
}

class ReleaseMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *Ed25519KeyPair::Generate();
    other_ = *Ed25519KeyPair::Generate();
    keys_ = *PublisherKeys::FromRawKeys({key_.public_key()});
  }

  v1::SignedReleaseMetadata Signed(const v1::Release& r, const Ed25519KeyPair& key) {
    auto m = ReleaseMetadataFor(r, kNow, kNow + absl::Hours(24));
    EXPECT_TRUE(m.ok()) << m.status();
    auto s = SignReleaseMetadata(*m, key);
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  }

  Ed25519KeyPair key_ = *Ed25519KeyPair::Generate();
  Ed25519KeyPair other_ = *Ed25519KeyPair::Generate();
  PublisherKeys keys_;
};

TEST_F(ReleaseMetadataTest, SignedMetadataVerifiesAndMatchesItsRelease) {
  v1::Release r = SampleRelease();
  auto m = keys_.Verify(Signed(r, key_));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version(), "2.1.0");
  EXPECT_EQ(m->chunk_sha256_size(), 3);
  EXPECT_TRUE(CheckMetadataMatches(*m, r).ok());
  EXPECT_TRUE(CheckMetadataFresh(*m, kNow + absl::Hours(1)).ok());
}

TEST_F(ReleaseMetadataTest, UntrustedKeyIsPermissionDenied) {
  auto m = keys_.Verify(Signed(SampleRelease(), other_));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(m.status().message(), HasSubstr("not a trusted publisher key"));
}

TEST_F(ReleaseMetadataTest, AlteredMetadataOrSignatureIsRejected) {
  v1::SignedReleaseMetadata s = Signed(SampleRelease(), key_);
  v1::SignedReleaseMetadata altered = s;
  altered.mutable_metadata()->back() ^= 1;
  EXPECT_EQ(keys_.Verify(altered).status().code(), absl::StatusCode::kInvalidArgument);
  altered = s;
  (*altered.mutable_signature())[0] ^= 1;
  EXPECT_THAT(keys_.Verify(altered).status().message(), HasSubstr("does not verify"));
  altered = s;
  altered.clear_signature();
  EXPECT_THAT(keys_.Verify(altered).status().message(), HasSubstr("not signed"));
}

TEST_F(ReleaseMetadataTest, SignatureOverOtherContextDoesNotVerify) {
  // A signature over the bare metadata (no context prefix) must not pass.
  v1::SignedReleaseMetadata s = Signed(SampleRelease(), key_);
  s.set_signature(*key_.Sign(s.metadata()));
  EXPECT_FALSE(keys_.Verify(s).ok());
}

TEST_F(ReleaseMetadataTest, EveryFieldOfTheReleaseIsChecked) {
  v1::Release r = SampleRelease();
  v1::ReleaseMetadata m = *keys_.Verify(Signed(r, key_));
  struct Case {
    const char* field;
    std::function<void(v1::Release&)> change;
  };
  std::vector<Case> cases = {
      {"release_id", [](v1::Release& x) { x.set_release_id("rel_2"); }},
      {"package_id", [](v1::Release& x) { x.set_package_id("pkg_2"); }},
      {"package name", [](v1::Release& x) { x.set_package_name("maps2"); }},
      {"version", [](v1::Release& x) { x.set_version("2.0.0"); }},
      {"SHA-256", [](v1::Release& x) { x.mutable_artifact()->set_sha256(std::string(64, 'b')); }},
      {"length", [](v1::Release& x) { x.mutable_artifact()->set_size(2999); }},
      {"chunk size", [](v1::Release& x) { x.mutable_artifact()->set_chunk_size(2048); }},
      {"chunk count", [](v1::Release& x) { x.mutable_artifact()->add_chunk_sha256("x"); }},
      {"chunk 1", [](v1::Release& x) { (*x.mutable_artifact()->mutable_chunk_sha256(1))[0] ^= 1; }},
  };
  for (const Case& c : cases) {
    v1::Release changed = r;
    c.change(changed);
    absl::Status s = CheckMetadataMatches(m, changed);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(c.field));
  }
}

TEST_F(ReleaseMetadataTest, ExpiredOrFutureMetadataIsStale) {
  v1::ReleaseMetadata m = *keys_.Verify(Signed(SampleRelease(), key_));
  absl::Status expired = CheckMetadataFresh(m, kNow + absl::Hours(24));
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(expired.message(), HasSubstr("expired"));
  EXPECT_THAT(CheckMetadataFresh(m, kNow - absl::Hours(1)).message(), HasSubstr("future"));
  EXPECT_TRUE(CheckMetadataFresh(m, kNow - absl::Minutes(1)).ok());
}

TEST_F(ReleaseMetadataTest, BuildingNeedsAManifestAndAnExpiryAfterIssue) {
  v1::Release r = SampleRelease();
  EXPECT_FALSE(ReleaseMetadataFor(r, kNow, kNow).ok());
  r.clear_artifact();
  EXPECT_THAT(ReleaseMetadataFor(r, kNow, kNow + absl::Hours(1)).status().message(),
              HasSubstr("no artifact manifest"));
}

TEST_F(ReleaseMetadataTest, KeyFileParsesKeysAndNamesTheBadLine) {
  const std::string path = ::testing::TempDir() + "/publisher_keys";
  {
    std::ofstream out(path);
    out << "# trusted publishers\n\n" << absl::WebSafeBase64Escape(key_.public_key()) << "\n";
  }
  auto keys = PublisherKeys::FromFile(path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_TRUE(keys->Verify(Signed(SampleRelease(), key_)).ok());
  {
    std::ofstream out(path, std::ios::app);
    out << "not-a-key\n";
  }
  EXPECT_THAT(PublisherKeys::FromFile(path).status().message(), HasSubstr("line 4"));
  EXPECT_EQ(PublisherKeys::FromFile(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(PublisherKeys::FromRawKeys({"short"}).ok());
}

}  // namespace
}  // namespace updraft
