// Signed release metadata end to end (issue 4 item 8): the publisher signs,
// the catalog checks before publishing, the SDK checks again before consent
// and refuses a release signed by a key it does not trust, or metadata past
// its expiry (freeze), reporting 1407 to the server; re-signing recovers.
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "gtest/gtest.h"
#include "tests/e2e_fixture.h"

namespace updraft::e2e {
namespace {

using ::testing::HasSubstr;

class ReleaseSigningTest : public PlatformTest {};

// The server's record of the device's last report.
v1::ResultRecord LastReport(const v1::DeviceState& state) {
  return state.history_size() > 0 ? state.history(state.history_size() - 1) : v1::ResultRecord();
}

TEST_F(ReleaseSigningTest, OffersCarryMetadataTheDeviceVerifies) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  auto metadata = PublisherKeys::FromRawKeys({platform_->publisher_key().public_key()})
                      ->Verify(release.signed_metadata());
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_EQ(metadata->artifact_sha256(), release.artifact().sha256());

  auto device = NewDevice("imei-signed-1");
  ASSERT_NE(device, nullptr);
  auto run = device->client().RunActiveUpgrade();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->size(), 1u);
  EXPECT_EQ((*run)[0].result, v1::SUCCESS) << (*run)[0].message;
}

TEST_F(ReleaseSigningTest, ReleaseSignedByAnUntrustedPublisherIsRefusedBeforeConsent) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  TestDevice::Options options;
  options.trusted_publisher_keys =
      std::vector<std::string>{Ed25519KeyPair::Generate()->public_key()};
  auto device = NewDevice("imei-signed-2", options);
  ASSERT_NE(device, nullptr);
  auto run = device->client().RunActiveUpgrade();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->size(), 1u);
  EXPECT_EQ((*run)[0].result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_THAT((*run)[0].message, HasSubstr("not a trusted publisher key"));
  EXPECT_TRUE((*run)[0].reported);
  EXPECT_TRUE(device->offers().empty()) << "the user must not be asked";
  EXPECT_EQ(LastReport(DeviceState("imei-signed-2")).result(), v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_TRUE(DeviceState("imei-signed-2").deployed().empty());
}

TEST_F(ReleaseSigningTest, ExpiredMetadataIsAFreezeUntilThePublisherSignsAgain) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  auto device = NewDevice("imei-signed-3");
  ASSERT_NE(device, nullptr);

  platform_->clock().Advance(Platform::kMetadataLifetime + absl::Hours(1));
  auto frozen = device->client().RunActiveUpgrade();
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  ASSERT_EQ(frozen->size(), 1u);
  EXPECT_EQ((*frozen)[0].result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_THAT((*frozen)[0].message, HasSubstr("expired"));
  EXPECT_EQ(LastReport(DeviceState("imei-signed-3")).result(), v1::PACKAGE_VALIDATION_FAILED);

  // Stale metadata cannot be published again either...
  auto stale = platform_->PublishRelease(release.release_id(), release.signed_metadata());
  ExpectStatus(stale.status(), absl::StatusCode::kInvalidArgument, "expired");
  // ...but freshly signed metadata replaces it and the device installs.
  auto resigned = platform_->PublishRelease(release.release_id());
  ASSERT_TRUE(resigned.ok()) << resigned.status();
  auto run = device->client().RunActiveUpgrade();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->size(), 1u);
  EXPECT_EQ((*run)[0].result, v1::SUCCESS) << (*run)[0].message;
}

TEST_F(ReleaseSigningTest, CatalogRefusesMetadataThatDoesNotDescribeTheRelease) {
  DemoArtifact artifact;
  v1::ArtifactManifest manifest;
  ASSERT_NO_FATAL_FAILURE(UploadDemo("1.0.0", &artifact, &manifest));
  auto created = platform_->CreateRelease(DemoRequest("1.0.0", manifest.sha256()));
  ASSERT_TRUE(created.ok()) << created.status();
  v1::Release lie = *created;
  lie.set_version("7.0.0");
  auto metadata =
      ReleaseMetadataFor(lie, platform_->clock().Now(), platform_->clock().Now() + absl::Hours(1));
  ASSERT_TRUE(metadata.ok());
  auto published = platform_->PublishRelease(
      created->release_id(), *SignReleaseMetadata(*metadata, platform_->publisher_key()));
  ExpectStatus(published.status(), absl::StatusCode::kInvalidArgument, "version does not match");
  EXPECT_EQ(platform_->GetRelease(created->release_id())->state(), v1::DRAFT);
}

}  // namespace
}  // namespace updraft::e2e
