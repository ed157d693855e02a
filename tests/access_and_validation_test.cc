// End-to-end refusals: unknown devices, bad logins, expired tokens,
// malformed DCinfo and unknown artifacts, each with its exact gRPC code and
// nothing left behind; and the device SDK recovering from an expired token.
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/token.h"
#include "tests/e2e_fixture.h"

namespace updraft::e2e {
namespace {

using device::ProgressEvent;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using AccessTest = PlatformTest;
using ValidationTest = PlatformTest;
using absl::StatusCode;

constexpr char kBadChallenge[] = "challenge is unknown, expired or already used";

TEST_F(AccessTest, UnknownDeviceIsNotFound) {
  ExpectStatus(platform_->GetChallenge("ghost-7").status(), StatusCode::kNotFound,
               "device ghost-7 is not registered");

  auto device = NewDevice("ghost-7", {}, "", /*register_device=*/false);
  ASSERT_NE(device, nullptr);
  ExpectStatus(device->client().Login(), StatusCode::kNotFound,
               "login of device ghost-7 failed at GetChallenge: device ghost-7 is not registered");
  auto run = device->client().RunActiveUpgrade();
  ExpectStatus(run.status(), StatusCode::kNotFound, "device ghost-7 is not registered");
  EXPECT_EQ(device->Count(ProgressEvent::Step::kLoggedIn), 0);
  EXPECT_THAT(device->client().LocalState().pending_reports(), IsEmpty());
  EXPECT_THAT(DeviceState("ghost-7").history(), IsEmpty());
}

TEST_F(AccessTest, WrongSignatureIsRejectedAndConsumesTheChallenge) {
  auto device = NewDevice("dev-sig");
  ASSERT_NE(device, nullptr);
  auto other = Ed25519KeyPair::Generate();
  ASSERT_TRUE(other.ok());
  auto challenge = platform_->GetChallenge("dev-sig");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->nonce().size(), 32u);
  const std::string message = LoginMessage("dev-sig", challenge->nonce());

  auto wrong = other->Sign(message);
  ASSERT_TRUE(wrong.ok());
  ExpectStatus(platform_->Login("dev-sig", challenge->nonce(), *wrong).status(),
               StatusCode::kUnauthenticated,
               "signature does not verify with the registered key of device dev-sig");
  auto right = device->key().Sign(message);
  ASSERT_TRUE(right.ok());
  ExpectStatus(platform_->Login("dev-sig", challenge->nonce(), *right).status(),
               StatusCode::kUnauthenticated, kBadChallenge);

  // A fresh challenge signed with the registered key still logs in.
  auto token = platform_->AccessToken("dev-sig", device->key());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_FALSE(token->empty());

  // The SDK says which key to check when its key is not the registered one.
  auto impostor = NewDevice("dev-impostor", {}, "", /*register_device=*/false);
  ASSERT_NE(impostor, nullptr);
  ASSERT_TRUE(platform_->RegisterDevice("dev-impostor", other->public_key()).ok());
  absl::Status login = impostor->client().Login();
  ExpectStatus(login, StatusCode::kUnauthenticated,
               "auth rejected the login of device dev-impostor: signature does not verify");
  EXPECT_THAT(std::string(login.message()), HasSubstr(KeyIdFor(impostor->key().public_key())));
}

TEST_F(AccessTest, ReusedChallengeIsRejected) {
  auto device = NewDevice("dev-replay");
  ASSERT_NE(device, nullptr);
  auto challenge = platform_->GetChallenge("dev-replay");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  auto signature = device->key().Sign(LoginMessage("dev-replay", challenge->nonce()));
  ASSERT_TRUE(signature.ok());
  auto first = platform_->Login("dev-replay", challenge->nonce(), *signature);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->expires_at_unix(),
            absl::ToUnixSeconds(platform_->clock().Now() + Platform::kTokenTtl));
  ExpectStatus(platform_->Login("dev-replay", challenge->nonce(), *signature).status(),
               StatusCode::kUnauthenticated, kBadChallenge);
}

TEST_F(AccessTest, ExpiredTokenIsRejectedAndTheSdkLogsInAgain) {
  FakeClock handset_clock;  // never moves: the SDK keeps trusting its token
  auto device = NewDevice("dev-expiry", {.clock = &handset_clock});
  ASSERT_NE(device, nullptr);
  auto token = platform_->AccessToken("dev-expiry", device->key());
  ASSERT_TRUE(token.ok()) << token.status();
  auto check = platform_->CheckForUpdates(*token, v1::CheckForUpdatesRequest());
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_THAT(check->offers(), IsEmpty());

  DemoArtifact v1_0;
  v1::Release r1;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &v1_0, &r1));
  const std::string sha = r1.artifact().sha256();
  // Fetch is limited to artifacts offered to the device: check first.
  auto offered = platform_->CheckForUpdates(*token, v1::CheckForUpdatesRequest());
  ASSERT_TRUE(offered.ok()) << offered.status();
  ASSERT_EQ(offered->offers_size(), 1);
  auto chunks = platform_->Fetch(*token, sha);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  ASSERT_THAT(*chunks, SizeIs(r1.artifact().chunk_sha256_size()));
  std::string fetched;
  for (size_t i = 0; i < chunks->size(); ++i) {
    EXPECT_EQ((*chunks)[i].index(), i);
    EXPECT_EQ((*chunks)[i].offset(), static_cast<int64_t>(i * kChunkSize));
    EXPECT_EQ((*chunks)[i].sha256(), r1.artifact().chunk_sha256(static_cast<int>(i)));
    fetched += (*chunks)[i].data();
  }
  EXPECT_EQ(fetched, v1_0.tar);
  auto installed = device->client().RunActiveUpgrade();
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_THAT(*installed, SizeIs(1));
  EXPECT_EQ((*installed)[0].result, v1::SUCCESS) << (*installed)[0].message;
  EXPECT_EQ(device->Count(ProgressEvent::Step::kLoggedIn), 1);

  platform_->clock().Advance(Platform::kTokenTtl + absl::Seconds(1));
  ExpectStatus(platform_->CheckForUpdates(*token, v1::CheckForUpdatesRequest()).status(),
               StatusCode::kUnauthenticated, "access token expired; log in again");
  ExpectStatus(platform_->Fetch(*token, sha).status(), StatusCode::kUnauthenticated,
               "access token expired; log in again");

  // The SDK's cached token is now refused; it logs in again and goes on.
  DemoArtifact v1_1;
  v1::Release r2;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.1.0", &v1_1, &r2));
  auto upgraded = device->client().RunActiveUpgrade();
  ASSERT_TRUE(upgraded.ok()) << upgraded.status();
  ASSERT_THAT(*upgraded, SizeIs(1));
  EXPECT_EQ((*upgraded)[0].kind, v1::OVERWRITE);
  EXPECT_EQ((*upgraded)[0].result, v1::SUCCESS) << (*upgraded)[0].message;
  EXPECT_TRUE((*upgraded)[0].reported) << (*upgraded)[0].report_error;
  EXPECT_EQ(device->Count(ProgressEvent::Step::kLoggedIn), 2);
  EXPECT_EQ(ReadFile(device->PackageDir("demo-app") + "/app.bin"), v1_1.app_bin);
  v1::DeviceState server = DeviceState("dev-expiry");
  ASSERT_THAT(server.deployed(), SizeIs(2));
  EXPECT_EQ(server.deployed(0).version(), "1.1.0");
  EXPECT_THAT(server.history(), SizeIs(2));
}

TEST_F(ValidationTest, MalformedDcInfoIsRejectedAndLeavesNoRelease) {
  DemoArtifact artifact;
  v1::ArtifactManifest manifest;
  ASSERT_NO_FATAL_FAILURE(UploadDemo("1.0.0", &artifact, &manifest));
  const v1::CreateReleaseRequest valid = DemoRequest("1.0.0", manifest.sha256());

  v1::CreateReleaseRequest duplicate = valid;
  duplicate.mutable_dcinfo()->mutable_entries(1)->set_dc_id("DC_1");
  ExpectStatus(platform_->CreateRelease(duplicate).status(), StatusCode::kInvalidArgument,
               "duplicate DC ID DC_1 in DCinfo");

  v1::CreateReleaseRequest empty_triple = valid;
  empty_triple.mutable_dcinfo()->Clear();
  empty_triple.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  empty_triple.mutable_dcinfo()->add_entries();
  ExpectStatus(platform_->CreateRelease(empty_triple).status(), StatusCode::kInvalidArgument,
               "DCinfo entry 0 has an empty author");

  v1::CreateReleaseRequest partial_triple = empty_triple;
  v1::DcEntry* first = partial_triple.mutable_dcinfo()->mutable_entries(0);
  first->set_author("acme");
  first->set_name("player");
  first->set_version("1.0.0");
  v1::DcEntry* second = partial_triple.mutable_dcinfo()->add_entries();
  second->set_author("acme");
  second->set_version("1.0.0");
  ExpectStatus(platform_->CreateRelease(partial_triple).status(), StatusCode::kInvalidArgument,
               "DCinfo entry 1 has an empty name");

  v1::CreateReleaseRequest missing_file = valid;
  missing_file.mutable_dcinfo()->mutable_entries(1)->set_files(0, "missing.so");
  ExpectStatus(platform_->CreateRelease(missing_file).status(), StatusCode::kInvalidArgument,
               absl::StrCat("file missing.so of DC_2 is not in artifact ", manifest.sha256()));

  // Nothing was stored: version 1.0.0 is still free, and then taken.
  auto created = platform_->CreateRelease(valid);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_THAT(created->dcinfo().entries(), SizeIs(2));
  EXPECT_EQ(created->dcinfo().entries(0).author(), "acme");
  EXPECT_EQ(created->dcinfo().entries(0).version(), "1.0.0");
  ExpectStatus(
      platform_->CreateRelease(valid).status(), StatusCode::kAlreadyExists,
      absl::StrCat("release 1.0.0 of package ", DemoPackage().package_id(), " already exists"));
}

TEST_F(ValidationTest, UnknownArtifactIsNotFound) {
  const std::string sha = Sha256Hex("never uploaded");
  ExpectStatus(platform_->CreateRelease(DemoRequest("1.0.0", sha)).status(), StatusCode::kNotFound,
               absl::StrCat("artifact ", sha, " is not uploaded to the download service"));
  ExpectStatus(platform_->CreateRelease(DemoRequest("1.0.0", "ABC")).status(),
               StatusCode::kInvalidArgument, "artifact_sha256");

  grpc::ClientContext ctx;
  ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
  v1::GetManifestRequest request;
  request.set_sha256(sha);
  v1::ArtifactManifest manifest;
  grpc::Status s = platform_->download().GetManifest(&ctx, request, &manifest);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr(absl::StrCat("artifact ", sha, " not found")));

  auto device = NewDevice("dev-fetch");
  ASSERT_NE(device, nullptr);
  auto token = platform_->AccessToken("dev-fetch", device->key());
  ASSERT_TRUE(token.ok()) << token.status();
  ExpectStatus(platform_->Fetch(*token, sha).status(), StatusCode::kNotFound,
               absl::StrCat("artifact ", sha, " not found"));
  ExpectStatus(platform_->Fetch(*token, "ABC").status(), StatusCode::kInvalidArgument,
               "sha256 must be 64 lower-case hex digits");
  ExpectStatus(platform_->Fetch("not-a-token", sha).status(), StatusCode::kUnauthenticated,
               "malformed access token");

  // The refused release left nothing: 1.0.0 can be created once uploaded.
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  EXPECT_EQ(release.version(), "1.0.0");
}

}  // namespace
}  // namespace updraft::e2e
