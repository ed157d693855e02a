// Integration test: the wired catalog over real PostgreSQL, a stand-in
// download service on a real port, and tokens signed here.
#include "services/catalog/catalog_server.h"

#include <grpcpp/grpcpp.h>

#include "common/crypto.h"
#include "common/test_env.h"
#include "common/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

const std::string kSha = Sha256Hex("player 1.0.0");

// Serves one manifest through the download service's GetManifest.
class StandInDownload final : public v1::Download::Service {
 public:
  grpc::Status GetManifest(grpc::ServerContext*, const v1::GetManifestRequest* request,
                           v1::ArtifactManifest* response) override {
    if (request->sha256() != kSha) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown");
    response->set_sha256(kSha);
    response->set_size(4);
    response->set_chunk_size(1 << 20);
    response->add_chunk_sha256(Sha256("data"));
    response->add_files("bin/player");
    return grpc::Status::OK;
  }
};

TEST(CatalogServerTest, ActiveUpgradeEndToEnd) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  StandInDownload download;
  grpc::ServerBuilder builder;
  int download_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &download_port);
  builder.RegisterService(&download);
  auto download_server = builder.BuildAndStart();
  ASSERT_NE(download_server, nullptr);

  FakeClock clock;
  Logger logger("catalog", &clock);
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  StaticKeySource keys;
  keys.Add(key->public_key());
  TokenSigner signer(*key, &clock, absl::Minutes(10));
  const std::string download_address = "127.0.0.1:" + std::to_string(download_port);

  auto server = CatalogServer::Create({.metrics_listen = "127.0.0.1:0",
                                       .pg_uri = (*env)->pg_uri(),
                                       .download_address = download_address,
                                       .key_source_override = &keys,
                                       .clock = &clock,
                                       .logger = &logger});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->metrics_port(), 0);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto admin = v1::CatalogAdmin::NewStub(channel);
  auto device = v1::DeviceCatalog::NewStub(channel);

  v1::Package package;
  {
    grpc::ClientContext ctx;
    v1::CreatePackageRequest p;
    p.set_name("player");
    p.set_author("Acme");
    ASSERT_TRUE(admin->CreatePackage(&ctx, p, &package).ok());
  }
  v1::CreateReleaseRequest r;
  r.set_package_id(package.package_id());
  r.set_version("1.0.0");
  r.set_artifact_sha256(Sha256Hex("never uploaded"));
  r.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  auto* e = r.mutable_dcinfo()->add_entries();
  e->set_author("Acme");
  e->set_name("player");
  e->set_version("100");
  e->add_files("bin/player");
  v1::Release release;
  {
    grpc::ClientContext ctx;
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("is not uploaded to the download service"));
  }
  r.set_artifact_sha256(kSha);
  {
    grpc::ClientContext ctx;
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(release.artifact().files(0), "bin/player");
  }
  {
    grpc::ClientContext ctx;
    v1::PublishReleaseRequest p;
    p.set_release_id(release.release_id());
    ASSERT_TRUE(admin->PublishRelease(&ctx, p, &release).ok());
  }

  auto token = signer.Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(token.ok());
  v1::CheckForUpdatesResponse offers;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token->token);
    v1::CheckForUpdatesRequest check;
    auto* c = check.add_inventory();  // an older build installed offline
    c->set_author("Acme");
    c->set_name("player");
    c->set_version("99");
    c->set_location(v1::DEPLOYED);
    ASSERT_TRUE(device->CheckForUpdates(&ctx, check, &offers).ok());
  }
  ASSERT_EQ(offers.offers_size(), 1);
  EXPECT_EQ(offers.offers(0).kind(), v1::FRESH_INSTALL);
  EXPECT_EQ(offers.offers(0).download_target(), download_address);
  EXPECT_EQ(offers.offers(0).release().dcinfo().entries(0).dc_id().substr(0, 3), "dc-");
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token->token);
    v1::ReportResultRequest report;
    report.set_report_id("rep-1");
    report.set_release_id(release.release_id());
    report.set_result(v1::SUCCESS);
    const v1::DcEntry& dc = offers.offers(0).release().dcinfo().entries(0);
    auto* c = report.add_deployed();
    c->set_dc_id(dc.dc_id());
    c->set_release_id(release.release_id());
    c->set_author(dc.author());
    c->set_name(dc.name());
    c->set_version(dc.version());
    v1::ReportResultResponse response;
    ASSERT_TRUE(device->ReportResult(&ctx, report, &response).ok());
    EXPECT_FALSE(response.duplicate());
  }
  {
    grpc::ClientContext ctx;
    v1::GetDeviceStateRequest get;
    get.set_device_id("dev-1");
    v1::DeviceState state;
    ASSERT_TRUE(admin->GetDeviceState(&ctx, get, &state).ok());
    ASSERT_EQ(state.deployed_size(), 1);
    EXPECT_EQ(state.deployed(0).version(), "100");
    EXPECT_EQ(state.history_size(), 1);
  }
  {
    grpc::ClientContext ctx;  // no token
    v1::ReportResultResponse response;
    EXPECT_EQ(device->ReportResult(&ctx, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  (*server)->Shutdown();
  download_server->Shutdown();
}

}  // namespace
}  // namespace updraft::catalog
