#include "tools/updraftctl/signing_commands.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/catalog_mock.grpc.pb.h"

namespace updraft::ctl {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;

std::string TempPath(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

// Runs GenPublisherKey into a temp file; returns the printed public key.
std::string GenerateKey(const std::string& path) {
  Args a;
  EXPECT_TRUE(ParseArgs({"--out=" + path}, &a).ok());
  Stubs none;
  FILE* out = tmpfile();
  EXPECT_TRUE(GenPublisherKey(a, none, out).ok());
  rewind(out);
  char line[256] = {0};
  EXPECT_NE(fgets(line, sizeof line, out), nullptr);
  fclose(out);
  std::string raw;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(absl::StripAsciiWhitespace(line), &raw));
  return raw;
}

v1::Release SampleRelease() {
  v1::Release r;
  r.set_release_id("rel_1");
  r.set_package_id("pkg_1");
  r.set_package_name("maps");
  r.set_version("1.0.0");
  r.mutable_artifact()->set_sha256(Sha256Hex("x"));
  r.mutable_artifact()->set_size(1);
  r.mutable_artifact()->set_chunk_size(1024);
  r.mutable_artifact()->add_chunk_sha256(Sha256("x"));
  return r;
}

TEST(GenPublisherKeyTest, WritesAPrivateKeyOnceAndPrintsItsPublicKey) {
  const std::string path = TempPath("publisher.key");
  const std::string public_key = GenerateKey(path);
  auto raw = ReadKeyFile(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(Ed25519KeyPair::FromPrivateKey(*raw)->public_key(), public_key);
  Args a;
  ASSERT_TRUE(ParseArgs({"--out=" + path}, &a).ok());
  Stubs none;
  EXPECT_EQ(GenPublisherKey(a, none, stdout).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GenPublisherKey(Args(), none, stdout).code(), absl::StatusCode::kInvalidArgument);
}

TEST(PublishTest, SignsTheReleaseTheCatalogHolds) {
  const std::string key_path = TempPath("signing.key");
  auto keys = PublisherKeys::FromRawKeys({GenerateKey(key_path)});
  ASSERT_TRUE(keys.ok());
  Stubs stubs;
  auto catalog = std::make_unique<v1::MockCatalogAdminStub>();
  v1::PublishReleaseRequest sent;
  v1::Release published = SampleRelease();
  published.set_state(v1::PUBLISHED);
  EXPECT_CALL(*catalog, GetRelease(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(SampleRelease()), Return(grpc::Status::OK)));
  EXPECT_CALL(*catalog, PublishRelease(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(published), Return(grpc::Status::OK)));
  stubs.catalog = std::move(catalog);
  Args a;
  ASSERT_TRUE(
      ParseArgs({"--release_id=rel_1", "--signing_key_file=" + key_path, "--expires_in=48h"}, &a)
          .ok());
  ASSERT_TRUE(Publish(a, stubs, stdout).ok());
  auto metadata = keys->Verify(sent.signed_metadata());
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  EXPECT_TRUE(CheckMetadataMatches(*metadata, SampleRelease()).ok());
  EXPECT_EQ(metadata->expires_at_unix() - metadata->issued_at_unix(), 48 * 3600);
}

TEST(PublishTest, BadOptionsAreUsageErrorsAndSendNothing) {
  Stubs stubs;
  auto catalog = std::make_unique<v1::MockCatalogAdminStub>();
  EXPECT_CALL(*catalog, PublishRelease(_, _, _)).Times(0);
  stubs.catalog = std::move(catalog);
  Args a;
  ASSERT_TRUE(
      ParseArgs({"--release_id=rel_1", "--signing_key_file=/nonexistent", "--expires_in=soon"}, &a)
          .ok());
  absl::Status s = Publish(a, stubs, stdout);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--expires_in"));
  Args missing_key;
  ASSERT_TRUE(
      ParseArgs({"--release_id=rel_1", "--signing_key_file=/nonexistent"}, &missing_key).ok());
  EXPECT_EQ(Publish(missing_key, stubs, stdout).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Publish(Args(), stubs, stdout).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::ctl
