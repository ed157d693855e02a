// Integration test: the wired catalog over real PostgreSQL, a stand-in
// download service on a real port, and tokens signed here.
#include "services/catalog/catalog_server.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "common/redis_revocations.h"
#include "common/test_env.h"
#include "common/tls_test_util.h"
#include "common/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

const std::string kSha = Sha256Hex("player 1.0.0");

// Serves one manifest through the download service's GetManifest; when
// `required_token` is set, only to a caller presenting it.
class StandInDownload final : public v1::Download::Service {
 public:
  std::string required_token;

  grpc::Status GetManifest(grpc::ServerContext* context, const v1::GetManifestRequest* request,
                           v1::ArtifactManifest* response) override {
    if (!required_token.empty()) {
      auto it = context->client_metadata().find("authorization");
      if (it == context->client_metadata().end() ||
          std::string(it->second.data(), it->second.size()) != "Bearer " + required_token) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing operator token");
      }
    }
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
  auto publisher = [&](grpc::ClientContext* ctx, const std::string& role = "publisher") {
    ctx->AddMetadata("authorization",
                     "Bearer " + signer.Issue("ak_1", kOperatorAudience, {.role = role})->token);
  };

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
    EXPECT_EQ(admin->CreatePackage(&ctx, p, &package).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    grpc::ClientContext viewer;
    publisher(&viewer, "viewer");
    grpc::Status s = admin->CreatePackage(&viewer, p, &package);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "role viewer may not call CreatePackage; needs publisher");
    grpc::ClientContext ok;
    publisher(&ok);
    ASSERT_TRUE(admin->CreatePackage(&ok, p, &package).ok());
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
    publisher(&ctx);
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("is not uploaded to the download service"));
  }
  r.set_artifact_sha256(kSha);
  {
    grpc::ClientContext ctx;
    publisher(&ctx);
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(release.artifact().files(0), "bin/player");
  }
  {
    grpc::ClientContext ctx;
    publisher(&ctx);
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
    publisher(&ctx, "viewer");
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

// Publishes one token key through auth's GetPublicKeys; OperatorLogin with
// `api_key` answers `operator_token`.
class StandInAuth final : public v1::Auth::Service {
 public:
  explicit StandInAuth(std::string public_key) : public_key_(std::move(public_key)) {}
  std::string api_key;
  std::string operator_token;

  grpc::Status GetPublicKeys(grpc::ServerContext*, const v1::GetPublicKeysRequest*,
                             v1::PublicKeySet* response) override {
    auto* k = response->add_keys();
    k->set_key_id(KeyIdFor(public_key_));
    k->set_ed25519(public_key_);
    return grpc::Status::OK;
  }
  grpc::Status OperatorLogin(grpc::ServerContext*, const v1::OperatorLoginRequest* request,
                             v1::OperatorLoginResponse* response) override {
    if (api_key.empty() || request->api_key() != api_key) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid API key");
    }
    response->set_access_token(operator_token);
    response->set_expires_at_unix(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
    response->set_role("viewer");
    return grpc::Status::OK;
  }

 private:
  std::string public_key_;
};

// The catalog logs in with its API key to fetch manifests, and a device token
// that worked stops working once auth publishes the device's revocation.
TEST(CatalogServerTest, ApiKeyForManifestsAndRevokedDeviceMidSession) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  FakeClock clock;
  Logger logger("catalog", &clock);
  auto key = Ed25519KeyPair::Generate();
  TokenSigner signer(*key, &clock, absl::Minutes(10));
  StandInAuth auth(key->public_key());
  std::string raw = RandomBytes(32);
  auth.api_key = absl::WebSafeBase64Escape(raw);
  auth.operator_token = "catalog-viewer-token";
  StandInDownload download;
  download.required_token = auth.operator_token;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&auth);
  builder.RegisterService(&download);
  auto stand_ins = builder.BuildAndStart();
  ASSERT_NE(stand_ins, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const char* dir = getenv("TEST_TMPDIR");
  std::string key_file = std::string(dir ? dir : "/tmp") + "/catalog_api.key";
  ASSERT_TRUE(WriteKeyFile(key_file, raw).ok());

  auto server = CatalogServer::Create({.pg_uri = (*env)->pg_uri(),
                                       .download_address = address,
                                       .auth_address = address,
                                       .redis = (*env)->redis_options(),
                                       .redis_key_prefix = (*env)->redis_prefix(),
                                       .api_key_file = key_file,
                                       .clock = &clock,
                                       .logger = &logger});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto admin = v1::CatalogAdmin::NewStub(channel);
  auto device = v1::DeviceCatalog::NewStub(channel);
  auto as_publisher = [&](grpc::ClientContext* ctx) {
    ctx->AddMetadata(
        "authorization",
        "Bearer " + signer.Issue("ak_1", kOperatorAudience, {.role = "publisher"})->token);
  };
  v1::Package package;
  {
    grpc::ClientContext ctx;
    as_publisher(&ctx);
    v1::CreatePackageRequest p;
    p.set_name("player");
    p.set_author("Acme");
    ASSERT_TRUE(admin->CreatePackage(&ctx, p, &package).ok());
  }
  {
    grpc::ClientContext ctx;
    as_publisher(&ctx);
    v1::CreateReleaseRequest r;
    r.set_package_id(package.package_id());
    r.set_version("1.0.0");
    r.set_artifact_sha256(kSha);
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    auto* e = r.mutable_dcinfo()->add_entries();
    e->set_dc_id("DC_1");
    e->add_files("bin/player");
    v1::Release release;
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    ASSERT_TRUE(s.ok()) << s.error_message();  // the stand-in download saw the catalog's token
  }

  auto token = signer.Issue("dev-1", kDeviceAudience);
  auto check = [&]() {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token->token);
    v1::CheckForUpdatesResponse offers;
    return device->CheckForUpdates(&ctx, {}, &offers);
  };
  ASSERT_TRUE(check().ok());
  auto redis = RedisClient::Create((*env)->redis_options());
  ASSERT_TRUE(redis.ok());
  RedisRevocationPublisher revocations(redis->get(), (*env)->redis_prefix(), &clock);
  uint64_t seen = (*server)->revocations().revision();
  ASSERT_TRUE(revocations
                  .Publish({Revocation::Kind::kSubject, std::string(kDeviceAudience), "dev-1",
                            clock.Now(), clock.Now() + absl::Minutes(15)})
                  .ok());
  ASSERT_TRUE((*server)->revocations().AwaitRevision(seen + 1, absl::Seconds(5)));
  grpc::Status s = check();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "device dev-1 is revoked");
  (*server)->Shutdown();
  stand_ins->Shutdown();
}

// Mutual TLS on the listener and on the channel to auth (token keys).
TEST(CatalogServerTest, ServesAndCallsAuthOverMutualTls) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  auto certs = TestCertificates::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  FakeClock clock;
  Logger logger("catalog", &clock);
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  StandInAuth auth(key->public_key());
  grpc::ServerBuilder builder;
  int auth_port = 0;
  builder.AddListeningPort("127.0.0.1:0", *ServerCredentialsFrom(certs->Service("auth")),
                           &auth_port);
  builder.RegisterService(&auth);
  auto auth_server = builder.BuildAndStart();
  ASSERT_NE(auth_server, nullptr);

  auto server = CatalogServer::Create({.pg_uri = (*env)->pg_uri(),
                                       .download_address = "127.0.0.1:1",
                                       .auth_address = "127.0.0.1:" + std::to_string(auth_port),
                                       .tls = certs->Service("catalog"),
                                       .clock = &clock,
                                       .logger = &logger});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  TokenSigner signer(*key, &clock, absl::Minutes(10));
  auto token = signer.Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(token.ok());
  auto check = [&](const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token->token);
    v1::CheckForUpdatesResponse offers;
    return v1::DeviceCatalog::NewStub(channel)->CheckForUpdates(&ctx, {}, &offers);
  };
  grpc::Status s = check(*MakeChannel(address, certs->Client("device")));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(check(*MakeChannel(address, certs->Client())).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(check(*MakeChannel(address, TlsOptions())).error_code(), grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown();
  auth_server->Shutdown();
}

// Two replicas over one database: what is published or withdrawn through
// one is answered from the other's in-memory snapshot, refreshed by NOTIFY.
TEST(CatalogServerTest, ReplicasFollowPublishAndWithdrawWithCompatibility) {
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
  Logger logger("catalog", &clock, stderr, Logger::Level::kWarning);
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  StaticKeySource keys;
  keys.Add(key->public_key());
  TokenSigner signer(*key, &clock, absl::Minutes(10));
  CatalogServer::Options o{.pg_uri = (*env)->pg_uri(),
                           .download_address = "127.0.0.1:" + std::to_string(download_port),
                           .key_source_override = &keys,
                           .clock = &clock,
                           .logger = &logger};
  auto a = CatalogServer::Create(o);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = CatalogServer::Create(o);
  ASSERT_TRUE(b.ok()) << b.status();
  auto stub = [](CatalogServer& s) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(s.port()),
                               grpc::InsecureChannelCredentials());
  };
  auto admin = v1::CatalogAdmin::NewStub(stub(**a));
  auto device = v1::DeviceCatalog::NewStub(stub(**b));
  auto as = [&](grpc::ClientContext* ctx, const std::string& role) {
    ctx->AddMetadata("authorization",
                     "Bearer " + signer.Issue("ak_1", kOperatorAudience, {.role = role})->token);
  };

  v1::Package package;
  {
    grpc::ClientContext ctx;
    as(&ctx, "publisher");
    v1::CreatePackageRequest p;
    p.set_name("player");
    p.set_author("Acme");
    ASSERT_TRUE(admin->CreatePackage(&ctx, p, &package).ok());
  }
  v1::CreateReleaseRequest r;
  r.set_package_id(package.package_id());
  r.set_version("1.0.0");
  r.set_artifact_sha256(kSha);
  r.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  auto* e = r.mutable_dcinfo()->add_entries();
  e->set_author("Acme");
  e->set_name("player");
  e->set_version("100");
  e->add_files("bin/player");
  r.mutable_compatibility()->add_models("A1");
  r.mutable_compatibility()->set_min_os_version("13");
  v1::Release release;
  {
    grpc::ClientContext ctx;
    as(&ctx, "publisher");
    r.mutable_compatibility()->set_max_os_version("12");
    grpc::Status s = admin->CreateRelease(&ctx, r, &release);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("compatibility.min_os_version 13 is above"));
  }
  r.mutable_compatibility()->clear_max_os_version();
  {
    grpc::ClientContext ctx;
    as(&ctx, "publisher");
    ASSERT_TRUE(admin->CreateRelease(&ctx, r, &release).ok());
    grpc::ClientContext publish;
    as(&publish, "publisher");
    v1::PublishReleaseRequest p;
    p.set_release_id(release.release_id());
    ASSERT_TRUE(admin->PublishRelease(&publish, p, &release).ok());
  }
  const std::string id = release.release_id();
  ASSERT_TRUE((*b)->releases().WaitFor(
      [&](const ReleaseSnapshot& s) { return s.releases.count(id) > 0; }, absl::Seconds(20)));

  auto check = [&](const std::string& model, const std::string& os) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + signer.Issue("dev-1", kDeviceAudience)->token);
    v1::CheckForUpdatesRequest req;
    req.mutable_attributes()->set_model(model);
    req.mutable_attributes()->set_os_version(os);
    v1::CheckForUpdatesResponse resp;
    grpc::Status s = device->CheckForUpdates(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.offers_size();
  };
  EXPECT_EQ(check("A1", "13.1"), 1);
  EXPECT_EQ(check("A1", "12"), 0);
  EXPECT_EQ(check("Z9", "14"), 0);

  {
    grpc::ClientContext viewer;
    as(&viewer, "viewer");
    v1::WithdrawReleaseRequest w;
    w.set_release_id(id);
    EXPECT_EQ(admin->WithdrawRelease(&viewer, w, &release).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    grpc::ClientContext ctx;
    as(&ctx, "publisher");
    ASSERT_TRUE(admin->WithdrawRelease(&ctx, w, &release).ok());
    EXPECT_EQ(release.state(), v1::WITHDRAWN);
  }
  ASSERT_TRUE((*b)->releases().WaitFor(
      [&](const ReleaseSnapshot& s) {
        auto it = s.releases.find(id);
        return it != s.releases.end() && it->second.state() == v1::WITHDRAWN;
      },
      absl::Seconds(20)));
  EXPECT_EQ(check("A1", "13.1"), 0);
}

}  // namespace
}  // namespace updraft::catalog
