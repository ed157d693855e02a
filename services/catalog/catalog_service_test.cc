#include "services/catalog/catalog_service.h"

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "common/crypto.h"
#include "common/semver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/mocks.h"

namespace updraft::catalog {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Return;

const std::string kSha1 = Sha256Hex("artifact one");
const std::string kSha2 = Sha256Hex("artifact two");

MATCHER_P2(StatusIs, code, substring, "") {
  return arg.code() == code && std::string(arg.message()).find(substring) != std::string::npos;
}

v1::ArtifactManifest Manifest(const std::string& sha) {
  v1::ArtifactManifest m;
  m.set_sha256(sha);
  m.set_size(2048);
  m.set_chunk_size(1024);
  m.add_chunk_sha256(Sha256("c0"));
  m.add_chunk_sha256(Sha256("c1"));
  m.add_files("app.bin");
  m.add_files("lib/codec.so");
  return m;
}

class CatalogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifests_.Add(Manifest(kSha1));
    manifests_.Add(Manifest(kSha2));
    auto service = CatalogService::Create({.store = &store_,
                                           .manifests = &manifests_,
                                           .clock = &clock_,
                                           .public_download_target = "dns:///dl.example:443"});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    v1::CreatePackageRequest p;
    p.set_name("Media Player");
    p.set_author("Acme");
    p.set_description("Plays media.");
    auto package = service_->CreatePackage(p);
    ASSERT_TRUE(package.ok()) << package.status();
    package_ = *package;
  }

  v1::CreateReleaseRequest ReleaseRequest(const std::string& version,
                                          const std::string& sha = kSha1) {
    v1::CreateReleaseRequest r;
    r.set_package_id(package_.package_id());
    r.set_version(version);
    r.set_artifact_sha256(sha);
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    auto* e = r.mutable_dcinfo()->add_entries();
    e->set_dc_id("DC_1");
    e->add_files("app.bin");
    e = r.mutable_dcinfo()->add_entries();
    e->set_dc_id("DC_2");
    e->add_files("lib/codec.so");
    (*r.mutable_settings())["volume"] = "7";
    return r;
  }

  v1::Release Publish(const std::string& version) {
    auto created = service_->CreateRelease(ReleaseRequest(version));
    EXPECT_TRUE(created.ok()) << created.status();
    v1::PublishReleaseRequest p;
    p.set_release_id(created->release_id());
    auto published = service_->PublishRelease(p);
    EXPECT_TRUE(published.ok()) << published.status();
    return *published;
  }

  v1::ReportResultRequest Report(const std::string& id, const v1::Release& release,
                                 v1::ResultCode code) {
    v1::ReportResultRequest r;
    r.set_report_id(id);
    r.set_release_id(release.release_id());
    r.set_result(code);
    for (const auto& dc : release.dcinfo().entries()) {
      auto* c = r.add_deployed();
      c->set_dc_id(dc.dc_id());
      c->set_release_id(release.release_id());
      c->set_author(dc.author());
      c->set_name(dc.name());
      c->set_version(dc.version());
      c->set_state(v1::ACTIVE);
    }
    return r;
  }

  FakeClock clock_;
  FakeCatalogStore store_;
  FakeManifestSource manifests_;
  std::unique_ptr<CatalogService> service_;
  v1::Package package_;
};

TEST_F(CatalogServiceTest, CreateRequiresDependencies) {
  EXPECT_EQ(CatalogService::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CatalogService::Create({.store = &store_, .manifests = &manifests_, .clock = &clock_})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogServiceTest, CreatePackage) {
  EXPECT_THAT(package_.package_id(), MatchesRegex("pkg_[0-9a-f]{16}"));
  EXPECT_EQ(package_.name(), "Media Player");
  auto got = store_.GetPackage(package_.package_id());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->author(), "Acme");

  v1::CreatePackageRequest p;
  p.set_name("Media Player");
  p.set_author("Someone");
  EXPECT_THAT(
      service_->CreatePackage(p).status(),
      StatusIs(absl::StatusCode::kAlreadyExists, "package name Media Player already exists"));
  for (const std::string& bad :
       {std::string(), std::string(129, 'n'), std::string("a/b"), std::string("caf\xc3\xa9")}) {
    p.set_name(bad);
    EXPECT_THAT(service_->CreatePackage(p).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, "name must be 1 to 128"));
  }
  p.set_name("Other");
  p.set_author("");
  EXPECT_THAT(service_->CreatePackage(p).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "author is required"));
  p.set_author(std::string(129, 'a'));
  EXPECT_THAT(service_->CreatePackage(p).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "author"));
}

TEST_F(CatalogServiceTest, CreateReleaseCopiesManifestAndCompletesDcInfo) {
  auto r = service_->CreateRelease(ReleaseRequest("1.0.0"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->release_id(), MatchesRegex("rel_[0-9a-f]{16}"));
  EXPECT_EQ(r->state(), v1::DRAFT);
  EXPECT_EQ(r->package_name(), "Media Player");
  EXPECT_EQ(r->description(), "Plays media.");
  EXPECT_EQ(r->artifact().SerializeAsString(), Manifest(kSha1).SerializeAsString());
  ASSERT_EQ(r->dcinfo().entries_size(), 2);
  EXPECT_EQ(r->dcinfo().entries(1).author(), "Acme");
  EXPECT_EQ(r->dcinfo().entries(1).name(), "DC_2");
  EXPECT_EQ(r->dcinfo().entries(1).version(), "1.0.0");
  EXPECT_EQ(r->settings().at("volume"), "7");
  auto stored = store_.GetRelease(r->release_id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->SerializeAsString(), r->SerializeAsString());
}

TEST_F(CatalogServiceTest, CreateReleaseRejectsBadInput) {
  auto req = ReleaseRequest("1.0.0");
  req.set_package_id("pkg_00000000000000ff");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kNotFound, "package pkg_00000000000000ff not found"));

  req = ReleaseRequest("1.0");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "is not a semantic version"));

  req = ReleaseRequest("1.0.0", "ABCDEF");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "artifact_sha256"));

  const std::string unknown = Sha256Hex("never uploaded");
  req = ReleaseRequest("1.0.0", unknown);
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       "artifact " + unknown + " is not uploaded to the download service"));

  req = ReleaseRequest("1.0.0");
  req.mutable_dcinfo()->mutable_entries(1)->set_dc_id("DC_1");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "duplicate DC ID DC_1 in DCinfo"));

  req = ReleaseRequest("1.0.0");
  req.mutable_dcinfo()->mutable_entries(1)->add_files("lib/x.so");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "file lib/x.so of DC_2 is not in artifact " + kSha1));

  req = ReleaseRequest("1.0.0");
  req.mutable_dcinfo()->Clear();
  req.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  auto* e = req.mutable_dcinfo()->add_entries();
  e->set_author("Acme");
  e->set_version("3");
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "DCinfo entry 0 has an empty name"));

  req = ReleaseRequest("1.0.0");
  for (int i = 0; i < 65; ++i) (*req.mutable_settings())["k" + std::to_string(i)] = "v";
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "at most 64"));
  req = ReleaseRequest("1.0.0");
  (*req.mutable_settings())[""] = "v";
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings key is required"));
  req = ReleaseRequest("1.0.0");
  (*req.mutable_settings())[std::string(129, 'k')] = "v";
  EXPECT_THAT(service_->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings key"));

  EXPECT_EQ(store_.release_count(), 0u);  // nothing was stored

  ASSERT_TRUE(service_->CreateRelease(ReleaseRequest("1.0.0")).ok());
  EXPECT_THAT(service_->CreateRelease(ReleaseRequest("1.0.0", kSha2)).status(),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "release 1.0.0 of package " + package_.package_id() + " already exists"));
  EXPECT_EQ(store_.release_count(), 1u);
}

TEST_F(CatalogServiceTest, PublishIsIdempotentAndGetFindsIt) {
  auto created = service_->CreateRelease(ReleaseRequest("1.0.0"));
  ASSERT_TRUE(created.ok());
  v1::PublishReleaseRequest p;
  p.set_release_id(created->release_id());
  auto first = service_->PublishRelease(p);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::PUBLISHED);
  auto second = service_->PublishRelease(p);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->SerializeAsString(), first->SerializeAsString());
  v1::GetReleaseRequest g;
  g.set_release_id(created->release_id());
  auto got = service_->GetRelease(g);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state(), v1::PUBLISHED);

  p.set_release_id("rel_ffffffffffffffff");
  EXPECT_THAT(service_->PublishRelease(p).status(),
              StatusIs(absl::StatusCode::kNotFound, "release rel_ffffffffffffffff not found"));
  p.set_release_id("");
  EXPECT_THAT(service_->PublishRelease(p).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "release_id"));
  g.set_release_id("no such/release");
  EXPECT_THAT(service_->GetRelease(g).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "release_id"));
}

TEST_F(CatalogServiceTest, CheckForUpdatesOffersFreshInstallThenOverwrite) {
  auto draft = service_->CreateRelease(ReleaseRequest("0.9.0"));
  ASSERT_TRUE(draft.ok());
  v1::CheckForUpdatesRequest check;
  auto none = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->offers().empty());  // drafts are not offered

  v1::Release v1_0 = Publish("1.0.0");
  auto fresh = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->offers_size(), 1);
  const v1::Offer& offer = fresh->offers(0);
  EXPECT_EQ(offer.kind(), v1::FRESH_INSTALL);
  EXPECT_EQ(offer.installed_version(), "");
  EXPECT_EQ(offer.download_target(), "dns:///dl.example:443");
  EXPECT_EQ(offer.release().SerializeAsString(), v1_0.SerializeAsString());
  EXPECT_EQ(offer.release().artifact().chunk_sha256_size(), 2);
  EXPECT_EQ(offer.release().dcinfo().entries(0).dc_id(), "DC_1");

  for (const auto& dc : v1_0.dcinfo().entries()) {
    auto* c = check.add_inventory();
    c->set_release_id(v1_0.release_id());
    c->set_dc_id(dc.dc_id());
    c->set_author(dc.author());
    c->set_name(dc.name());
    c->set_version(dc.version());
    c->set_location(v1::DEPLOYED);
    c->set_state(v1::ACTIVE);
  }
  auto current = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(current->offers().empty());

  v1::Release v1_1 = Publish("1.1.0");
  auto overwrite = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(overwrite.ok());
  ASSERT_EQ(overwrite->offers_size(), 1);
  EXPECT_EQ(overwrite->offers(0).kind(), v1::OVERWRITE);
  EXPECT_EQ(overwrite->offers(0).installed_version(), "1.0.0");
  EXPECT_EQ(overwrite->offers(0).release().release_id(), v1_1.release_id());

  // Offline: no release IDs, matched by {author, name, version}.
  for (auto& c : *check.mutable_inventory()) {
    c.clear_release_id();
    c.clear_dc_id();
  }
  auto offline = service_->CheckForUpdates("dev-1", check);
  ASSERT_TRUE(offline.ok());
  ASSERT_EQ(offline->offers_size(), 1);
  EXPECT_EQ(offline->offers(0).installed_version(), "1.0.0");
}

TEST_F(CatalogServiceTest, CheckForUpdatesRejectsBadInventory) {
  v1::CheckForUpdatesRequest check;
  auto* c = check.add_inventory();
  c->set_name("a");
  c->set_location(v1::DEPLOYED);
  c = check.add_inventory();
  c->set_name("b");
  c->set_location(static_cast<v1::ComponentLocation>(42));
  EXPECT_THAT(service_->CheckForUpdates("dev-1", check).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "inventory[1].location"));
  c->set_location(v1::DELIVERED);
  check.mutable_attributes()->set_model(std::string(200, 'm'));
  EXPECT_THAT(service_->CheckForUpdates("dev-1", check).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "attributes.model"));
  check.mutable_attributes()->clear_model();
  EXPECT_TRUE(service_->CheckForUpdates("dev-1", check).ok());
  EXPECT_THAT(service_->CheckForUpdates("", check).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_id"));
}

// Records what CatalogService tells the campaign engine about reports.
class ReportRecorder : public CampaignObserver {
 public:
  void OnCheck(const std::string&, const v1::DeviceAttributes&,
               const std::vector<std::string>&) override {}
  void OnReport(const std::string& device_id, const std::string& release_id,
                v1::ResultCode result) override {
    reports.push_back(device_id + " " + release_id + " " + v1::ResultCode_Name(result));
  }
  std::vector<std::string> reports;
};

// The first send of a report may die between its commit and the campaign
// outcome (a killed catalog); the device's re-send, a duplicate, must reach
// the campaign engine, with the recorded content, not the re-sent one.
TEST_F(CatalogServiceTest, DuplicateReportsReachTheCampaignsWithTheRecordedResult) {
  ReportRecorder campaigns;
  auto service = CatalogService::Create({.store = &store_,
                                         .manifests = &manifests_,
                                         .clock = &clock_,
                                         .public_download_target = "dns:///dl.example:443",
                                         .campaigns = &campaigns});
  ASSERT_TRUE(service.ok()) << service.status();
  v1::Release v1_0 = Publish("1.0.0");
  ASSERT_TRUE((*service)->ReportResult("dev-1", Report("r-1", v1_0, v1::SUCCESS)).ok());
  auto again = Report("r-1", v1_0, v1::INSTALL_FAILED);
  again.clear_deployed();
  auto dup = (*service)->ReportResult("dev-1", again);
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate());
  const std::string expected = "dev-1 " + v1_0.release_id() + " SUCCESS";
  EXPECT_THAT(campaigns.reports, ::testing::ElementsAre(expected, expected));
}

TEST_F(CatalogServiceTest, ReportResultRecordsAndIsIdempotent) {
  v1::Release v1_0 = Publish("1.0.0");
  auto ok = service_->ReportResult("dev-1", Report("r-1", v1_0, v1::SUCCESS));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->duplicate());

  v1::GetDeviceStateRequest get;
  get.set_device_id("dev-1");
  auto state = service_->GetDeviceState(get);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->deployed_size(), 2);
  EXPECT_EQ(state->deployed(0).location(), v1::DEPLOYED);
  EXPECT_EQ(state->deployed(0).release_id(), v1_0.release_id());
  ASSERT_EQ(state->history_size(), 1);
  EXPECT_EQ(state->history(0).result(), v1::SUCCESS);
  EXPECT_EQ(state->history(0).reported_at_unix(), absl::ToUnixSeconds(clock_.Now()));

  // The same report_id again, even with another content, changes nothing.
  auto again = Report("r-1", v1_0, v1::INSTALL_FAILED);
  again.clear_deployed();
  auto dup = service_->ReportResult("dev-1", again);
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate());
  state = service_->GetDeviceState(get);
  EXPECT_EQ(state->deployed_size(), 2);
  EXPECT_EQ(state->history_size(), 1);

  // Another device may use the same report_id.
  auto other = service_->ReportResult("dev-2", Report("r-1", v1_0, v1::SUCCESS));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate());

  // A failure is recorded but leaves the Deployed components as they were.
  clock_.Advance(absl::Minutes(1));
  v1::Release v1_1 = Publish("1.1.0");
  auto failed = Report("r-2", v1_1, v1::INSTALL_FAILED);
  failed.clear_deployed();
  ASSERT_TRUE(service_->ReportResult("dev-1", failed).ok());
  state = service_->GetDeviceState(get);
  EXPECT_EQ(state->deployed_size(), 2);
  ASSERT_EQ(state->history_size(), 2);
  EXPECT_EQ(state->history(1).result(), v1::INSTALL_FAILED);

  // A success replaces them.
  auto success = Report("r-3", v1_1, v1::SUCCESS);
  success.mutable_deployed()->RemoveLast();
  ASSERT_TRUE(service_->ReportResult("dev-1", success).ok());
  state = service_->GetDeviceState(get);
  ASSERT_EQ(state->deployed_size(), 1);
  EXPECT_EQ(state->deployed(0).release_id(), v1_1.release_id());
  EXPECT_EQ(state->deployed(0).version(), "1.1.0");
}

TEST_F(CatalogServiceTest, ReportResultRejectsBadInput) {
  v1::Release v1_0 = Publish("1.0.0");
  auto r = Report("", v1_0, v1::SUCCESS);
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "report_id is required"));
  r = Report(std::string(129, 'r'), v1_0, v1::SUCCESS);
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "report_id"));
  r = Report("r-1", v1_0, v1::RESULT_CODE_UNSPECIFIED);
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "result 0 is not a SCOMO result code"));
  r = Report("r-1", v1_0, static_cast<v1::ResultCode>(1299));
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "result 1299"));
  r = Report("r-1", v1_0, v1::SUCCESS);
  r.set_release_id("rel_0000000000000000");
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kNotFound, "release rel_0000000000000000 not found"));
  r = Report("r-1", v1_0, v1::SUCCESS);
  r.mutable_deployed(1)->set_location(v1::DELIVERED);
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "deployed[1].location"));
  r = Report("r-1", v1_0, v1::SUCCESS);
  r.set_message(std::string("bad\0", 4));
  EXPECT_THAT(service_->ReportResult("dev-1", r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "message"));

  v1::GetDeviceStateRequest get;
  get.set_device_id("dev-1");
  auto state = service_->GetDeviceState(get);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->history_size(), 0);  // nothing was recorded
  get.set_device_id("");
  EXPECT_THAT(service_->GetDeviceState(get).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_id is required"));
}

TEST(CatalogServiceMockTest, StoreErrorsPassThrough) {
  MockCatalogStore store;
  MockManifestSource manifests;
  FakeClock clock;
  EXPECT_CALL(store, ListPublicReleases())
      .WillOnce(Return(absl::UnavailableError("database unavailable")))
      .WillOnce(Return(std::vector<v1::Release>()));
  // The release snapshot is loaded at creation.
  EXPECT_THAT(CatalogService::Create({.store = &store,
                                      .manifests = &manifests,
                                      .clock = &clock,
                                      .public_download_target = "t"})
                  .status(),
              StatusIs(absl::StatusCode::kUnavailable, "database unavailable"));
  auto service = CatalogService::Create(
      {.store = &store, .manifests = &manifests, .clock = &clock, .public_download_target = "t"});
  ASSERT_TRUE(service.ok());
  // Checks are answered from memory: no store call.
  auto nothing = (*service)->CheckForUpdates("dev-1", {});
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_EQ(nothing->offers_size(), 0);

  v1::Package package;
  package.set_package_id("pkg_1");
  package.set_author("Acme");
  EXPECT_CALL(store, GetPackage("pkg_1")).WillOnce(Return(package));
  EXPECT_CALL(manifests, GetManifest(kSha1))
      .WillOnce(Return(absl::UnavailableError("download service unavailable")));
  EXPECT_CALL(store, CreateRelease(_, _)).Times(0);
  v1::CreateReleaseRequest req;
  req.set_package_id("pkg_1");
  req.set_version("1.0.0");
  req.set_artifact_sha256(kSha1);
  EXPECT_THAT((*service)->CreateRelease(req).status(),
              StatusIs(absl::StatusCode::kUnavailable, "download service unavailable"));
}

// Records grants; fails when told to.
class RecordingGrantWriter : public DownloadGrantWriter {
 public:
  absl::Status Grant(const std::string& device_id,
                     const std::vector<std::string>& sha256s) override {
    if (!fail.ok()) return fail;
    for (const std::string& sha : sha256s) granted.push_back(device_id + ":" + sha);
    return absl::OkStatus();
  }
  std::vector<std::string> granted;
  absl::Status fail;
};

TEST_F(CatalogServiceTest, OffersGrantTheArtifactAndNameTheHttpSource) {
  RecordingGrantWriter grants;
  // A second replica over the same store, with a snapshot of its own.
  ReleaseCache releases(&store_);
  auto service = CatalogService::Create({.store = &store_,
                                         .manifests = &manifests_,
                                         .clock = &clock_,
                                         .public_download_target = "dl.example:443",
                                         .public_http_base = "https://cdn.example/updraft/",
                                         .grants = &grants,
                                         .releases = &releases});
  ASSERT_TRUE(service.ok()) << service.status();
  auto nothing = (*service)->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(grants.granted.empty());

  v1::Release v1_0 = Publish("1.0.0");
  // Not seen until its snapshot reloads (PgReleaseListener does on NOTIFY).
  auto stale = (*service)->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->offers_size(), 0);
  ASSERT_TRUE(releases.Reload().ok());
  auto offers = (*service)->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(offers.ok()) << offers.status();
  ASSERT_EQ(offers->offers_size(), 1);
  EXPECT_THAT(offers->offers(0).http_urls(),
              ::testing::ElementsAre("https://cdn.example/updraft/objects/" + kSha1));
  EXPECT_THAT(grants.granted, ::testing::ElementsAre("dev-1:" + kSha1));

  // Without a way to grant access the offer would be useless: the check fails.
  grants.fail = absl::UnavailableError("cannot record download grants: redis down");
  EXPECT_THAT((*service)->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest()).status(),
              StatusIs(absl::StatusCode::kUnavailable, "cannot record download grants"));
}

// Allows a release only to the listed devices.
class ListGate : public OfferGate {
 public:
  bool MayOffer(const std::string& device_id, const std::string& release_id) override {
    asked.push_back(device_id + ":" + release_id);
    return allowed.count(device_id) > 0;
  }
  std::set<std::string> allowed;
  std::vector<std::string> asked;
};

TEST_F(CatalogServiceTest, AGateWithholdsOffersAndTheirGrants) {
  RecordingGrantWriter grants;
  ListGate gate;
  gate.allowed = {"dev-in-wave"};
  v1::Release v1_0 = Publish("1.0.0");
  auto service = CatalogService::Create({.store = &store_,
                                         .manifests = &manifests_,
                                         .clock = &clock_,
                                         .public_download_target = "dl.example:443",
                                         .grants = &grants,
                                         .offer_gate = &gate});
  ASSERT_TRUE(service.ok()) << service.status();
  auto held = (*service)->CheckForUpdates("dev-later", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->offers_size(), 0);
  EXPECT_TRUE(grants.granted.empty());
  auto offered = (*service)->CheckForUpdates("dev-in-wave", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(offered.ok()) << offered.status();
  ASSERT_EQ(offered->offers_size(), 1);
  EXPECT_THAT(grants.granted, ::testing::ElementsAre("dev-in-wave:" + kSha1));
  EXPECT_THAT(gate.asked, ::testing::ElementsAre("dev-later:" + v1_0.release_id(),
                                                 "dev-in-wave:" + v1_0.release_id()));
}

TEST_F(CatalogServiceTest, PublicHttpBaseMustBeAUrl) {
  EXPECT_THAT(CatalogService::Create({.store = &store_,
                                      .manifests = &manifests_,
                                      .clock = &clock_,
                                      .public_download_target = "dl.example:443",
                                      .public_http_base = "cdn.example"})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "public_http_base"));
}

TEST_F(CatalogServiceTest, WithdrawStopsOfferingAndNeverDowngrades) {
  v1::Release v1_0 = Publish("1.0.0");
  v1::Release v2_0 = Publish("2.0.0");
  v1::CheckForUpdatesRequest fresh;
  auto offers = service_->CheckForUpdates("dev-1", fresh);
  ASSERT_TRUE(offers.ok());
  ASSERT_EQ(offers->offers_size(), 1);
  EXPECT_EQ(offers->offers(0).release().release_id(), v2_0.release_id());

  v1::WithdrawReleaseRequest w;
  w.set_release_id(v2_0.release_id());
  auto withdrawn = service_->WithdrawRelease(w);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->state(), v1::WITHDRAWN);
  ASSERT_TRUE(service_->WithdrawRelease(w).ok());  // idempotent

  // A new device now gets 1.0.0; the history (GetRelease) is kept.
  offers = service_->CheckForUpdates("dev-1", fresh);
  ASSERT_TRUE(offers.ok());
  ASSERT_EQ(offers->offers_size(), 1);
  EXPECT_EQ(offers->offers(0).release().release_id(), v1_0.release_id());
  v1::GetReleaseRequest get;
  get.set_release_id(v2_0.release_id());
  EXPECT_EQ(service_->GetRelease(get)->state(), v1::WITHDRAWN);

  // A device that installed 2.0.0 is not offered 1.0.0.
  v1::CheckForUpdatesRequest has_v2;
  for (const auto& dc : v2_0.dcinfo().entries()) {
    auto* c = has_v2.add_inventory();
    c->set_release_id(v2_0.release_id());
    c->set_dc_id(dc.dc_id());
    c->set_author(dc.author());
    c->set_name(dc.name());
    c->set_version(dc.version());
    c->set_location(v1::DEPLOYED);
  }
  offers = service_->CheckForUpdates("dev-2", has_v2);
  ASSERT_TRUE(offers.ok());
  EXPECT_EQ(offers->offers_size(), 0);

  // A withdrawn release cannot be published again; a draft cannot be withdrawn.
  v1::PublishReleaseRequest p;
  p.set_release_id(v2_0.release_id());
  EXPECT_THAT(service_->PublishRelease(p).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "was withdrawn"));
  auto draft = service_->CreateRelease(ReleaseRequest("3.0.0"));
  ASSERT_TRUE(draft.ok());
  w.set_release_id(draft->release_id());
  EXPECT_THAT(service_->WithdrawRelease(w).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "is a draft"));
  w.set_release_id("rel_ffffffffffffffff");
  EXPECT_THAT(service_->WithdrawRelease(w).status(),
              StatusIs(absl::StatusCode::kNotFound, "release rel_ffffffffffffffff not found"));
  w.set_release_id("");
  EXPECT_THAT(service_->WithdrawRelease(w).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "release_id"));
}

TEST_F(CatalogServiceTest, CompatibilityIsValidatedStoredAndApplied) {
  auto bad = [&](std::function<void(v1::Compatibility*)> edit, const std::string& message) {
    v1::CreateReleaseRequest r = ReleaseRequest("1.0.0");
    edit(r.mutable_compatibility());
    EXPECT_THAT(service_->CreateRelease(r).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, message));
  };
  bad([](v1::Compatibility* c) { c->add_models(""); }, "compatibility.models[0] is required");
  bad(
      [](v1::Compatibility* c) {
        c->add_models("A1");
        c->add_models("A1");
      },
      "compatibility.models lists \"A1\" twice");
  bad([](v1::Compatibility* c) { c->add_carriers(std::string(129, 'c')); },
      "compatibility.carriers[0]");
  bad([](v1::Compatibility* c) { c->add_carriers("bad\xff"); }, "compatibility.carriers[0]");
  bad([](v1::Compatibility* c) { c->set_min_os_version("thirteen"); },
      "compatibility.min_os_version \"thirteen\" is not an OS version");
  bad([](v1::Compatibility* c) { c->set_max_os_version("1.2.3.4"); },
      "compatibility.max_os_version");
  bad([](v1::Compatibility* c) { c->set_min_os_version(std::string(65, '1')); },
      "compatibility.min_os_version is 65 bytes long");
  bad(
      [](v1::Compatibility* c) {
        c->set_min_os_version("14");
        c->set_max_os_version("13.9");
      },
      "compatibility.min_os_version 14 is above compatibility.max_os_version 13.9");
  bad(
      [](v1::Compatibility* c) {
        for (int i = 0; i < 257; ++i) c->add_models(std::to_string(i));
      },
      "compatibility.models has 257 entries");
  EXPECT_EQ(store_.release_count(), 0u);  // nothing stored

  Publish("1.0.0");
  v1::CreateReleaseRequest r = ReleaseRequest("2.0.0");
  r.mutable_compatibility()->add_models("A1");
  r.mutable_compatibility()->set_min_os_version("13");
  r.mutable_compatibility()->add_carriers("acme");
  auto created = service_->CreateRelease(r);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->compatibility().models(0), "A1");
  v1::PublishReleaseRequest p;
  p.set_release_id(created->release_id());
  ASSERT_TRUE(service_->PublishRelease(p).ok());

  auto check = [&](const std::string& model, const std::string& os, const std::string& carrier) {
    v1::CheckForUpdatesRequest c;
    c.mutable_attributes()->set_model(model);
    c.mutable_attributes()->set_os_version(os);
    c.mutable_attributes()->set_carrier(carrier);
    auto response = service_->CheckForUpdates("dev-1", c);
    EXPECT_TRUE(response.ok()) << response.status();
    return response->offers_size() == 1 ? response->offers(0).release().version() : "";
  };
  EXPECT_EQ(check("A1", "13.2", "acme"), "2.0.0");
  EXPECT_EQ(check("A1", "12", "acme"), "1.0.0");
  EXPECT_EQ(check("B2", "13.2", "acme"), "1.0.0");
  EXPECT_EQ(check("A1", "13.2", "other"), "1.0.0");
  EXPECT_EQ(check("A1", "", "acme"), "1.0.0");
}

TEST_F(CatalogServiceTest, PublishDuringChecksIsSeenAtomicallyAndInOrder) {
  Publish("1.0.0");
  std::atomic<bool> done{false};
  std::atomic<int> checks{0};
  std::vector<std::thread> checkers;
  for (int t = 0; t < 4; ++t) {
    checkers.emplace_back([&] {
      SemVer last = *SemVer::Parse("1.0.0");
      while (!done.load()) {
        auto response = service_->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
        ASSERT_TRUE(response.ok()) << response.status();
        ASSERT_EQ(response->offers_size(), 1);  // never a torn or empty snapshot
        SemVer seen = *SemVer::Parse(response->offers(0).release().version());
        EXPECT_FALSE(seen < last) << "went back from " << last.text() << " to " << seen.text();
        last = seen;
        ++checks;
      }
    });
  }
  // Publish only once the checkers are running, so checks and publishes overlap.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);  // a failed checker stops early
  while (checks.load() < 4 && absl::Now() < give_up) std::this_thread::yield();
  for (int minor = 1; minor <= 20; ++minor) Publish("1." + std::to_string(minor) + ".0");
  done = true;
  for (auto& t : checkers) t.join();
  EXPECT_GT(checks.load(), 0);
  auto last = service_->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->offers(0).release().version(), "1.20.0");
}

}  // namespace
}  // namespace updraft::catalog
