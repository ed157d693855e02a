// Publishing with signed release metadata (CatalogService::Options::publisher_keys).
#include <string>

#include "common/crypto.h"
#include "common/release_metadata.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/mocks.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

const std::string kSha = Sha256Hex("artifact");

class CatalogSigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::ArtifactManifest m;
    m.set_sha256(kSha);
    m.set_size(2048);
    m.set_chunk_size(1024);
    m.add_chunk_sha256(Sha256("c0"));
    m.add_chunk_sha256(Sha256("c1"));
    m.add_files("app.bin");
    manifests_.Add(m);
    keys_ = *PublisherKeys::FromRawKeys({publisher_.public_key()});
    service_ = Make(&keys_);
    v1::CreatePackageRequest p;
    p.set_name("Maps");
    p.set_author("Acme");
    auto package = service_->CreatePackage(p);
    ASSERT_TRUE(package.ok()) << package.status();
    v1::CreateReleaseRequest r;
    r.set_package_id(package->package_id());
    r.set_version("1.2.0");
    r.set_artifact_sha256(kSha);
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    auto* dc = r.mutable_dcinfo()->add_entries();
    dc->set_dc_id("DC_1");
    dc->add_files("app.bin");
    auto created = service_->CreateRelease(r);
    ASSERT_TRUE(created.ok()) << created.status();
    release_ = *created;
  }

  std::unique_ptr<CatalogService> Make(const PublisherKeys* keys) {
    auto s = CatalogService::Create({.store = &store_,
                                     .manifests = &manifests_,
                                     .clock = &clock_,
                                     .public_download_target = "dl.example:443",
                                     .publisher_keys = keys});
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }

  v1::PublishReleaseRequest Request(const v1::Release& r, const Ed25519KeyPair& key,
                                    absl::Duration lifetime = absl::Hours(24 * 30),
                                    absl::Duration issued_offset = absl::ZeroDuration()) {
    v1::PublishReleaseRequest p;
    p.set_release_id(r.release_id());
    const absl::Time issued = clock_.Now() + issued_offset;
    auto m = ReleaseMetadataFor(r, issued, issued + lifetime);
    EXPECT_TRUE(m.ok()) << m.status();
    *p.mutable_signed_metadata() = *SignReleaseMetadata(*m, key);
    return p;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  FakeCatalogStore store_;
  FakeManifestSource manifests_;
  Ed25519KeyPair publisher_ = *Ed25519KeyPair::Generate();
  PublisherKeys keys_;
  std::unique_ptr<CatalogService> service_;
  v1::Release release_;
};

TEST_F(CatalogSigningTest, SignedReleaseIsPublishedWithItsMetadataInOffers) {
  auto published = service_->PublishRelease(Request(release_, publisher_));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->state(), v1::PUBLISHED);
  auto m = keys_.Verify(published->signed_metadata());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version(), "1.2.0");

  v1::CheckForUpdatesRequest check;
  auto offers = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_EQ(offers->offers_size(), 1);
  EXPECT_EQ(offers->offers(0).release().signed_metadata().SerializeAsString(),
            published->signed_metadata().SerializeAsString());
}

TEST_F(CatalogSigningTest, UnsignedOrBadlySignedPublicationIsRefusedAndNothingChanges) {
  v1::PublishReleaseRequest unsigned_request;
  unsigned_request.set_release_id(release_.release_id());
  absl::Status s = service_->PublishRelease(unsigned_request).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("signed_metadata is required"));

  Ed25519KeyPair stranger = *Ed25519KeyPair::Generate();
  s = service_->PublishRelease(Request(release_, stranger)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("not a trusted publisher key"));

  v1::PublishReleaseRequest tampered = Request(release_, publisher_);
  tampered.mutable_signed_metadata()->mutable_metadata()->back() ^= 1;
  EXPECT_THAT(service_->PublishRelease(tampered).status().message(), HasSubstr("does not verify"));

  v1::Release other = release_;
  other.set_version("9.9.9");
  s = service_->PublishRelease(Request(other, publisher_)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("version does not match"));

  other = release_;
  (*other.mutable_artifact()->mutable_chunk_sha256(1))[0] ^= 1;
  EXPECT_THAT(service_->PublishRelease(Request(other, publisher_)).status().message(),
              HasSubstr("hash of chunk 1"));

  s = service_->PublishRelease(Request(release_, publisher_, absl::Hours(1), -absl::Hours(2)))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("expired"));
  s = service_->PublishRelease(Request(release_, publisher_, absl::Hours(24 * 1000))).status();
  EXPECT_THAT(s.message(), HasSubstr("shorter lifetime"));

  v1::GetReleaseRequest get;
  get.set_release_id(release_.release_id());
  EXPECT_EQ(service_->GetRelease(get)->state(), v1::DRAFT);
}

TEST_F(CatalogSigningTest, ResigningReplacesOnlyWithANewerStatement) {
  ASSERT_TRUE(service_->PublishRelease(Request(release_, publisher_)).ok());
  clock_.Advance(absl::Hours(1));
  auto newer = service_->PublishRelease(Request(release_, publisher_, absl::Hours(24 * 60)));
  ASSERT_TRUE(newer.ok()) << newer.status();
  const int64_t newer_expiry = keys_.Verify(newer->signed_metadata())->expires_at_unix();
  // An older statement arriving late changes nothing.
  auto late = service_->PublishRelease(
      Request(release_, publisher_, absl::Hours(24 * 10), -absl::Minutes(30)));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(keys_.Verify(late->signed_metadata())->expires_at_unix(), newer_expiry);
}

TEST_F(CatalogSigningTest, CatalogWithoutKeysPublishesUnsignedAndRefusesSigned) {
  std::unique_ptr<CatalogService> open = Make(nullptr);
  absl::Status s = open->PublishRelease(Request(release_, publisher_)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("trusts no publisher keys"));
  v1::PublishReleaseRequest p;
  p.set_release_id(release_.release_id());
  auto published = open->PublishRelease(p);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_FALSE(published->has_signed_metadata());
}

}  // namespace
}  // namespace updraft::catalog
