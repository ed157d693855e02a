#include "services/catalog/grpc_catalog_service.h"

#include <grpcpp/grpcpp.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/grpc_server.h"
#include "common/metrics.h"
#include "common/grpc_server.h"
#include "common/metrics.h"
#include "common/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

const std::string kSha = Sha256Hex("artifact");

class GrpcCatalogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::ArtifactManifest m;
    m.set_sha256(kSha);
    m.set_size(3);
    m.add_files("app.bin");
    manifests_.Add(m);
    auto service = CatalogService::Create({.store = &store_,
                                           .manifests = &manifests_,
                                           .clock = &clock_,
                                           .public_download_target = "dl.example:443"});
    ASSERT_TRUE(service.ok());
    service_ = *std::move(service);
    auto key = Ed25519KeyPair::Generate();
    ASSERT_TRUE(key.ok());
    keys_.Add(key->public_key());
    signer_ = std::make_unique<TokenSigner>(*key, &clock_, absl::Minutes(10));
    verifier_ = std::make_unique<TokenVerifier>(&keys_, &clock_, std::string(kDeviceAudience));
    operator_verifier_ =
        std::make_unique<TokenVerifier>(&keys_, &clock_, std::string(kOperatorAudience));
    admin_api_ = std::make_unique<GrpcCatalogAdmin>(service_.get(), operator_verifier_.get());
    auto metrics = Metrics::Create("");
    ASSERT_TRUE(metrics.ok());
    metrics_ = *std::move(metrics);
    device_api_ =
        std::make_unique<GrpcDeviceCatalog>(service_.get(), verifier_.get(), metrics_.get());
    auto server = GrpcServer::Start(
        {.services = {admin_api_.get(), device_api_.get()},
         .metrics = metrics_.get(),
         .methods_observing_themselves = {GrpcDeviceCatalog::kCheckForUpdatesMethod}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = server_->server()->InProcessChannel(grpc::ChannelArguments());
    admin_ = v1::CatalogAdmin::NewStub(channel);
    device_ = v1::DeviceCatalog::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::ZeroDuration());
  }

  void Authorize(grpc::ClientContext* ctx, absl::string_view device_id,
                 absl::string_view audience = kDeviceAudience) {
    auto token = signer_->Issue(device_id, audience);
    ASSERT_TRUE(token.ok()) << token.status();
    ctx->AddMetadata("authorization", "Bearer " + token->token);
  }

  // Adds an operator token of `role` to a call.
  void AsOperator(grpc::ClientContext* ctx, const std::string& role = "publisher") {
    auto token = signer_->Issue("ak_test", kOperatorAudience, {.role = role});
    ASSERT_TRUE(token.ok()) << token.status();
    ctx->AddMetadata("authorization", "Bearer " + token->token);
  }

  v1::Release CreatePublishedRelease() {
    grpc::ClientContext c1, c2, c3;
    AsOperator(&c1);
    AsOperator(&c2);
    AsOperator(&c3);
    v1::CreatePackageRequest p;
    p.set_name("player");
    p.set_author("Acme");
    v1::Package package;
    EXPECT_TRUE(admin_->CreatePackage(&c1, p, &package).ok());
    v1::CreateReleaseRequest r;
    r.set_package_id(package.package_id());
    r.set_version("1.0.0");
    r.set_artifact_sha256(kSha);
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    r.mutable_dcinfo()->add_entries()->set_dc_id("DC_1");
    r.mutable_dcinfo()->mutable_entries(0)->add_files("app.bin");
    v1::Release release;
    grpc::Status s = admin_->CreateRelease(&c2, r, &release);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::PublishReleaseRequest pub;
    pub.set_release_id(release.release_id());
    EXPECT_TRUE(admin_->PublishRelease(&c3, pub, &release).ok());
    return release;
  }

  // The counter `name` whose labels include every one of `labels`.
  double Counter(const std::string& name,
                 const std::vector<std::pair<std::string, std::string>>& labels) {
    for (const auto& family : metrics_->registry().Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        size_t matched = 0;
        for (const auto& l : metric.label) {
          for (const auto& [k, v] : labels) matched += l.name == k && l.value == v;
        }
        if (matched == labels.size()) return metric.counter.value;
      }
    }
    return 0;
  }
  double Counter(const std::string& name, const std::string& label, const std::string& value) {
    return Counter(name, {{label, value}});
  }

  FakeClock clock_;
  FakeCatalogStore store_;
  FakeManifestSource manifests_;
  StaticKeySource keys_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<CatalogService> service_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<TokenVerifier> operator_verifier_;
  std::unique_ptr<GrpcCatalogAdmin> admin_api_;
  std::unique_ptr<GrpcDeviceCatalog> device_api_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::CatalogAdmin::Stub> admin_;
  std::unique_ptr<v1::DeviceCatalog::Stub> device_;
};

TEST_F(GrpcCatalogServiceTest, DeviceCallsNeedAValidToken) {
  v1::CheckForUpdatesResponse response;
  {
    grpc::ClientContext ctx;
    grpc::Status s = device_->CheckForUpdates(&ctx, {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(s.error_message(), HasSubstr("missing authorization"));
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer not-a-token");
    EXPECT_EQ(device_->CheckForUpdates(&ctx, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, "dev-1", "updraft-operator");
    EXPECT_EQ(device_->CheckForUpdates(&ctx, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, "dev-1");
    clock_.Advance(absl::Minutes(11));  // expired by the time it is checked
    v1::ReportResultResponse report;
    EXPECT_EQ(device_->ReportResult(&ctx, {}, &report).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, "dev-1");
    grpc::Status s = device_->CheckForUpdates(&ctx, {}, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(response.offers().empty());
  }
  EXPECT_EQ(Counter("updraft_catalog_update_checks_total", "result", "nothing_new"), 1);
}

TEST_F(GrpcCatalogServiceTest, ActiveUpgradeOverGrpc) {
  v1::Release release = CreatePublishedRelease();
  grpc::ClientContext c1;
  Authorize(&c1, "dev-1");
  v1::CheckForUpdatesResponse offers;
  ASSERT_TRUE(device_->CheckForUpdates(&c1, {}, &offers).ok());
  ASSERT_EQ(offers.offers_size(), 1);
  EXPECT_EQ(offers.offers(0).kind(), v1::FRESH_INSTALL);
  EXPECT_EQ(offers.offers(0).download_target(), "dl.example:443");
  EXPECT_EQ(offers.offers(0).release().artifact().sha256(), kSha);
  EXPECT_EQ(Counter("updraft_catalog_update_checks_total", "result", "offers"), 1);

  v1::ReportResultRequest report;
  report.set_report_id("rep-1");
  report.set_release_id(release.release_id());
  report.set_result(v1::SUCCESS);
  auto* c = report.add_deployed();
  c->set_release_id(release.release_id());
  c->set_dc_id("DC_1");
  c->set_author("Acme");
  c->set_name("DC_1");
  c->set_version("1.0.0");
  for (bool duplicate : {false, true}) {
    grpc::ClientContext ctx;
    Authorize(&ctx, "dev-1");
    v1::ReportResultResponse response;
    grpc::Status s = device_->ReportResult(&ctx, report, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.duplicate(), duplicate);
  }
  EXPECT_EQ(Counter("updraft_catalog_reports_total", "code", "SUCCESS"), 1);

  grpc::ClientContext c2;
  AsOperator(&c2, "viewer");
  v1::GetDeviceStateRequest get;
  get.set_device_id("dev-1");  // the device ID comes from the token
  v1::DeviceState state;
  ASSERT_TRUE(admin_->GetDeviceState(&c2, get, &state).ok());
  ASSERT_EQ(state.deployed_size(), 1);
  EXPECT_EQ(state.history_size(), 1);

  grpc::ClientContext c3;
  Authorize(&c3, "dev-1");
  v1::CheckForUpdatesRequest check;
  *check.add_inventory() = *c;
  check.mutable_inventory(0)->set_location(v1::DEPLOYED);
  ASSERT_TRUE(device_->CheckForUpdates(&c3, check, &offers).ok());
  EXPECT_TRUE(offers.offers().empty());
}

TEST_F(GrpcCatalogServiceTest, CodesAndMessagesTravel) {
  v1::Release release = CreatePublishedRelease();
  grpc::ClientContext c1;
  AsOperator(&c1);
  v1::CreateReleaseRequest r;
  r.set_package_id(release.package_id());
  r.set_version("01.0.0");
  r.set_artifact_sha256(kSha);
  v1::Release out;
  grpc::Status s = admin_->CreateRelease(&c1, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("is not a semantic version"));

  grpc::ClientContext c2;
  AsOperator(&c2, "viewer");
  v1::GetReleaseRequest g;
  g.set_release_id("rel_0000000000000000");
  s = admin_->GetRelease(&c2, g, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "release rel_0000000000000000 not found");

  grpc::ClientContext c3;
  AsOperator(&c3, "admin");
  v1::CreatePackageRequest p;
  p.set_name("player");
  p.set_author("Acme");
  v1::Package package;
  s = admin_->CreatePackage(&c3, p, &package);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message(), "package name player already exists");

  grpc::ClientContext c4;
  Authorize(&c4, "dev-1");
  v1::ReportResultRequest report;
  report.set_report_id("rep-1");
  report.set_release_id("rel_0000000000000000");
  report.set_result(v1::INSTALL_FAILED);
  v1::ReportResultResponse response;
  s = device_->ReportResult(&c4, report, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Counter("updraft_catalog_reports_total", "code", "INSTALL_FAILED"), 0);
}

TEST_F(GrpcCatalogServiceTest, ManagementRpcsCheckTheOperatorRole) {
  v1::Package package;
  v1::Release release;
  v1::DeviceState state;
  struct Rpc {
    const char* name;
    const char* min_role;
    std::function<grpc::Status(grpc::ClientContext*)> call;
  };
  std::vector<Rpc> rpcs = {
      {"CreatePackage", "publisher",
       [&](auto* c) { return admin_->CreatePackage(c, v1::CreatePackageRequest(), &package); }},
      {"CreateRelease", "publisher",
       [&](auto* c) { return admin_->CreateRelease(c, v1::CreateReleaseRequest(), &release); }},
      {"PublishRelease", "publisher",
       [&](auto* c) { return admin_->PublishRelease(c, v1::PublishReleaseRequest(), &release); }},
      {"WithdrawRelease", "publisher",
       [&](auto* c) { return admin_->WithdrawRelease(c, v1::WithdrawReleaseRequest(), &release); }},
      {"GetRelease", "viewer",
       [&](auto* c) { return admin_->GetRelease(c, v1::GetReleaseRequest(), &release); }},
      {"GetDeviceState", "viewer",
       [&](auto* c) { return admin_->GetDeviceState(c, v1::GetDeviceStateRequest(), &state); }},
  };
  for (const Rpc& rpc : rpcs) {
    {
      grpc::ClientContext ctx;
      EXPECT_EQ(rpc.call(&ctx).error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name;
    }
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, "dev-1");  // a device token is not enough
      EXPECT_EQ(rpc.call(&ctx).error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name;
    }
    for (const char* role : {"viewer", "publisher", "admin"}) {
      grpc::ClientContext ctx;
      AsOperator(&ctx, role);
      grpc::Status s = rpc.call(&ctx);
      bool allowed = std::string(rpc.min_role) == "viewer" || std::string(role) != "viewer";
      if (allowed) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rpc.name << " " << role;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name << " " << role;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rpc.name;
        EXPECT_EQ(s.error_message(),
                  absl::StrCat("role viewer may not call ", rpc.name, "; needs publisher"));
      }
    }
  }
}

TEST_F(GrpcCatalogServiceTest, UpdateChecksAreInTheRpcMetricsOnce) {
  const std::string check = GrpcDeviceCatalog::kCheckForUpdatesMethod;
  v1::CheckForUpdatesResponse offers;
  grpc::ClientContext ok_ctx;
  Authorize(&ok_ctx, "dev-1");
  ASSERT_TRUE(device_->CheckForUpdates(&ok_ctx, {}, &offers).ok());
  grpc::ClientContext anonymous;
  EXPECT_EQ(device_->CheckForUpdates(&anonymous, {}, &offers).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  CreatePublishedRelease();  // three admin calls, through the interceptor

  const std::string handled = "updraft_grpc_server_handled_total";
  EXPECT_EQ(Counter(handled, {{"method", check}, {"code", "OK"}}), 1);
  EXPECT_EQ(Counter(handled, {{"method", check}, {"code", "UNAUTHENTICATED"}}), 1);
  EXPECT_EQ(
      Counter(handled, {{"method", "/updraft.v1.CatalogAdmin/PublishRelease"}, {"code", "OK"}}), 1);
  EXPECT_EQ(Counter("updraft_catalog_update_checks_total", "result", "nothing_new"), 1);
}

}  // namespace
}  // namespace updraft::catalog
