#include "services/catalog/download_manifest_source.h"

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth_mock.grpc.pb.h"
#include "updraft/v1/download_mock.grpc.pb.h"

namespace updraft::catalog {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::SetArgPointee;

const std::string kSha(64, 'b');

TEST(DownloadManifestSourceTest, ReturnsManifest) {
  auto stub = std::make_unique<v1::MockDownloadStub>();
  v1::ArtifactManifest m;
  m.set_sha256(kSha);
  m.set_size(10);
  m.add_files("app.bin");
  EXPECT_CALL(*stub, GetManifest(_, testing::Property(&v1::GetManifestRequest::sha256, kSha), _))
      .WillOnce(DoAll(SetArgPointee<2>(m), Return(grpc::Status::OK)));
  DownloadManifestSource source(std::move(stub));
  auto got = source.GetManifest(kSha);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 10);
  EXPECT_EQ(got->files(0), "app.bin");
}

TEST(DownloadManifestSourceTest, NotFoundSaysNotUploaded) {
  auto stub = std::make_unique<v1::MockDownloadStub>();
  EXPECT_CALL(*stub, GetManifest(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such artifact")));
  DownloadManifestSource source(std::move(stub));
  absl::Status s = source.GetManifest(kSha).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "artifact " + kSha + " is not uploaded to the download service");
}

TEST(DownloadManifestSourceTest, UnavailablePassesThrough) {
  auto stub = std::make_unique<v1::MockDownloadStub>();
  EXPECT_CALL(*stub, GetManifest(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")));
  DownloadManifestSource source(std::move(stub));
  absl::Status s = source.GetManifest(kSha).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("connection refused"));
}

TEST(DownloadManifestSourceTest, OtherErrorsKeepTheirCode) {
  auto stub = std::make_unique<v1::MockDownloadStub>();
  EXPECT_CALL(*stub, GetManifest(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "who are you")));
  DownloadManifestSource source(std::move(stub));
  EXPECT_EQ(source.GetManifest(kSha).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(DownloadManifestSourceTest, ManifestOfAnotherArtifactIsAnError) {
  auto stub = std::make_unique<v1::MockDownloadStub>();
  v1::ArtifactManifest m;
  m.set_sha256(std::string(64, 'c'));
  EXPECT_CALL(*stub, GetManifest(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(m), Return(grpc::Status::OK)));
  DownloadManifestSource source(std::move(stub));
  EXPECT_EQ(source.GetManifest(kSha).status().code(), absl::StatusCode::kInternal);
}

TEST(DownloadManifestSourceTest, LogsInOnceWithItsApiKey) {
  FakeClock clock;
  auto auth = std::make_unique<v1::MockAuthStub>();
  v1::OperatorLoginResponse token;
  token.set_access_token("viewer-token");
  token.set_expires_at_unix(absl::ToUnixSeconds(clock.Now() + absl::Minutes(10)));
  EXPECT_CALL(*auth, OperatorLogin(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(token), Return(grpc::Status::OK)));
  OperatorTokenSource credentials(std::move(auth), "key", &clock);
  auto stub = std::make_unique<v1::MockDownloadStub>();
  v1::ArtifactManifest m;
  m.set_sha256(kSha);
  EXPECT_CALL(*stub, GetManifest(_, _, _))
      .Times(2)
      .WillRepeatedly(DoAll(SetArgPointee<2>(m), Return(grpc::Status::OK)));
  DownloadManifestSource source(std::move(stub), absl::Seconds(10), &credentials);
  EXPECT_TRUE(source.GetManifest(kSha).ok());
  EXPECT_TRUE(source.GetManifest(kSha).ok());
}

TEST(DownloadManifestSourceTest, RefusedApiKeyIsFailedPreconditionWithoutCallingDownload) {
  FakeClock clock;
  auto auth = std::make_unique<v1::MockAuthStub>();
  EXPECT_CALL(*auth, OperatorLogin(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid API key")));
  OperatorTokenSource credentials(std::move(auth), "key", &clock);
  auto stub = std::make_unique<v1::MockDownloadStub>();
  EXPECT_CALL(*stub, GetManifest(_, _, _)).Times(0);
  DownloadManifestSource source(std::move(stub), absl::Seconds(10), &credentials);
  absl::Status s = source.GetManifest(kSha).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--api_key_file"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("invalid API key"));
}

}  // namespace
}  // namespace updraft::catalog
