// CatalogService's groups, per-component operations, group settings and
// SCOMO tree over the in-memory fakes.
#include "services/catalog/component_operations.h"

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/fake_group_store.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Op = v1::ComponentOperation;

const std::string kSha1 = Sha256Hex("five dcs 1.0");
const std::string kSha2 = Sha256Hex("five dcs 1.1");

MATCHER_P2(StatusIs, code, substring, "") {
  return arg.code() == code && std::string(arg.message()).find(substring) != std::string::npos;
}

class FakeAnnouncer : public Announcer {
 public:
  absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request) override {
    requests.push_back(request);
    if (fail) return absl::UnavailableError("notifier down");
    return v1::AnnounceResponse();
  }
  std::vector<v1::AnnounceRequest> requests;
  bool fail = false;
};

v1::ArtifactManifest Manifest(const std::string& sha) {
  v1::ArtifactManifest m;
  m.set_sha256(sha);
  m.set_size(1024);
  m.set_chunk_size(1024);
  m.add_chunk_sha256(Sha256("c0"));
  for (int i = 1; i <= 5; ++i) m.add_files("dc" + std::to_string(i) + ".bin");
  return m;
}

class ComponentOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifests_.Add(Manifest(kSha1));
    manifests_.Add(Manifest(kSha2));
    auto service = CatalogService::Create({.store = &store_,
                                           .manifests = &manifests_,
                                           .clock = &clock_,
                                           .public_download_target = "dns:///dl.example:443",
                                           .groups = &groups_,
                                           .operations = &store_,
                                           .announcer = &announcer_});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
    v1::CreatePackageRequest p;
    p.set_name("suite");
    p.set_author("Acme");
    package_ = *service_->CreatePackage(p);
  }

  v1::Release Publish(const std::string& version, const std::string& sha,
                      std::vector<v1::GroupSettings> groups = {}) {
    v1::CreateReleaseRequest r;
    r.set_package_id(package_.package_id());
    r.set_version(version);
    r.set_artifact_sha256(sha);
    r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
    for (int i = 1; i <= 5; ++i) {
      auto* e = r.mutable_dcinfo()->add_entries();
      e->set_dc_id("DC_" + std::to_string(i));
      e->add_files("dc" + std::to_string(i) + ".bin");
    }
    (*r.mutable_settings())["volume"] = "7";
    (*r.mutable_settings())["theme"] = "light";
    for (auto& g : groups) *r.add_group_settings() = g;
    auto created = service_->CreateRelease(r);
    EXPECT_TRUE(created.ok()) << created.status();
    v1::PublishReleaseRequest publish;
    publish.set_release_id(created->release_id());
    return *service_->PublishRelease(publish);
  }

  absl::StatusOr<v1::QueueOperationResponse> Queue(Op::Kind kind, const std::string& dc,
                                                   const std::string& device,
                                                   const std::string& group = "",
                                                   const std::string& release = "") {
    v1::QueueOperationRequest q;
    q.set_kind(kind);
    q.set_dc_id(dc);
    q.set_device_id(device);
    q.set_group(group);
    q.set_release_id(release);
    return service_->QueueOperation(q);
  }

  absl::Status AddMembers(const std::string& group, std::vector<std::string> ids) {
    v1::GroupMembersRequest r;
    r.set_group(group);
    for (auto& id : ids) r.add_device_ids(id);
    return service_->AddGroupMembers(r).status();
  }

  v1::CheckForUpdatesRequest Inventory(const v1::Release& installed) {
    v1::CheckForUpdatesRequest r;
    for (const v1::DcEntry& e : installed.dcinfo().entries()) {
      auto* c = r.add_inventory();
      c->set_dc_id(e.dc_id());
      c->set_release_id(installed.release_id());
      c->set_author(e.author());
      c->set_name(e.name());
      c->set_version(e.version());
      c->set_location(v1::DEPLOYED);
      c->set_state(v1::ACTIVE);
    }
    return r;
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  FakeCatalogStore store_;
  FakeManifestSource manifests_;
  FakeGroupStore groups_;
  FakeAnnouncer announcer_;
  std::unique_ptr<CatalogService> service_;
  v1::Package package_;
};

TEST_F(ComponentOperationsTest, QueueValidatesEveryField) {
  Publish("1.0.0", kSha1);
  EXPECT_THAT(Queue(Op::KIND_UNSPECIFIED, "DC_1", "dev-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "kind 0"));
  EXPECT_THAT(Queue(static_cast<Op::Kind>(99), "DC_1", "dev-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "kind 99"));
  EXPECT_THAT(Queue(Op::REMOVE, "", "dev-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "dc_id"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC/1", "dev-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "dc_id"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", "").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "exactly one of device_id and group"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", "dev-1", "beta").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "exactly one"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", std::string("dev\0x", 5)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_id"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", std::string(129, 'd')).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_id"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", "", "Beta").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "group \"Beta\""));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_1", "dev-1", "", "rel/1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "release_id"));
  EXPECT_THAT(Queue(Op::REMOVE, "DC_9", "dev-1").status(),
              StatusIs(absl::StatusCode::kNotFound, "no public release holds DC DC_9"));
  EXPECT_THAT(Queue(Op::UPDATE, "DC_1", "dev-1", "", "rel_unknown").status(),
              StatusIs(absl::StatusCode::kNotFound, "rel_unknown"));
  EXPECT_THAT(Queue(Op::ACTIVATE, "DC_1", "", "empty-group").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has no members"));
  auto listed = service_->ListOperations(v1::ListOperationsRequest());
  EXPECT_THAT(listed.status(), StatusIs(absl::StatusCode::kInvalidArgument, "device_id"));
  v1::ListOperationsRequest l;
  l.set_device_id("dev-1");
  l.set_limit(1001);
  EXPECT_THAT(service_->ListOperations(l).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "limit"));
  l.set_limit(0);
  EXPECT_EQ(service_->ListOperations(l)->operations_size(), 0);  // Nothing partial.
  EXPECT_TRUE(announcer_.requests.empty());
}

TEST_F(ComponentOperationsTest, UpdateNeedsAPublishedReleaseHoldingTheDc) {
  v1::Release r1 = Publish("1.0.0", kSha1);
  v1::Release r2 = Publish("1.1.0", kSha2);
  v1::WithdrawReleaseRequest w;
  w.set_release_id(r2.release_id());
  ASSERT_TRUE(service_->WithdrawRelease(w).ok());
  EXPECT_THAT(Queue(Op::UPDATE, "DC_1", "dev-1", "", r2.release_id()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "withdrawn"));
  // Newest published release holding the DC: 1.0.0 (1.1.0 is withdrawn);
  // REMOVE may name the newest public one.
  EXPECT_EQ(Queue(Op::UPDATE, "DC_1", "dev-1")->operations(0).release_id(), r1.release_id());
  EXPECT_EQ(Queue(Op::REMOVE, "DC_1", "dev-1")->operations(0).release_id(), r2.release_id());
}

TEST_F(ComponentOperationsTest, GroupIsExpandedWhenQueuedAndDevicesAreNudged) {
  v1::Release r1 = Publish("1.0.0", kSha1);
  ASSERT_TRUE(AddMembers("beta", {"dev-2", "dev-1", "dev-1"}).ok());
  auto queued = Queue(Op::DEACTIVATE, "DC_3", "", "beta");
  ASSERT_TRUE(queued.ok()) << queued.status();
  ASSERT_EQ(queued->operations_size(), 2);
  EXPECT_EQ(queued->operations(0).device_id(), "dev-1");
  EXPECT_EQ(queued->operations(1).device_id(), "dev-2");
  EXPECT_EQ(queued->operations(0).group(), "beta");
  EXPECT_EQ(queued->operations(0).state(), Op::QUEUED);
  EXPECT_EQ(queued->operations(0).release_id(), r1.release_id());
  EXPECT_NE(queued->operations(0).operation_id(), queued->operations(1).operation_id());
  ASSERT_EQ(announcer_.requests.size(), 1u);
  EXPECT_EQ(announcer_.requests[0].targets_size(), 2);
  EXPECT_EQ(announcer_.requests[0].location(), r1.release_id());
  // A device added later does not get it.
  ASSERT_TRUE(AddMembers("beta", {"dev-3"}).ok());
  v1::ListOperationsRequest l;
  l.set_device_id("dev-3");
  EXPECT_EQ(service_->ListOperations(l)->operations_size(), 0);
  // A failed nudge leaves the operation queued.
  announcer_.fail = true;
  EXPECT_TRUE(Queue(Op::ACTIVATE, "DC_3", "dev-3").ok());
  EXPECT_EQ(service_->ListOperations(l)->operations_size(), 1);
}

TEST_F(ComponentOperationsTest, CheckDeliversOperationsAndReportCompletesThem) {
  v1::Release r1 = Publish("1.0.0", kSha1);
  v1::Release r2 = Publish("1.1.0", kSha2);
  auto update = Queue(Op::UPDATE, "DC_2", "dev-1");
  auto remove = Queue(Op::REMOVE, "DC_5", "dev-1", "", r1.release_id());
  ASSERT_TRUE(update.ok() && remove.ok());

  auto check = service_->CheckForUpdates("dev-1", Inventory(r1));
  ASSERT_TRUE(check.ok()) << check.status();
  // The UPDATE operation's offer replaces the ordinary offer of 1.1.0.
  EXPECT_EQ(check->offers_size(), 0);
  ASSERT_EQ(check->operations_size(), 2);
  const v1::PendingOperation& u = check->operations(0);
  EXPECT_EQ(u.kind(), Op::UPDATE);
  EXPECT_EQ(u.offer().release().release_id(), r2.release_id());
  EXPECT_EQ(u.offer().kind(), v1::OVERWRITE);
  EXPECT_EQ(u.offer().installed_version(), "1.0.0");
  EXPECT_EQ(u.offer().download_target(), "dns:///dl.example:443");
  EXPECT_EQ(check->operations(1).kind(), Op::REMOVE);
  EXPECT_FALSE(check->operations(1).has_offer());

  v1::ListOperationsRequest l;
  l.set_device_id("dev-1");
  EXPECT_EQ(service_->ListOperations(l)->operations(0).state(), Op::DELIVERED);

  v1::ReportResultRequest report;
  report.set_report_id("rep-1");
  report.set_release_id(r1.release_id());
  report.set_operation_id(check->operations(1).operation_id());
  report.set_result(v1::REMOVE_FAILED);
  report.set_message("busy");
  auto reported = service_->ReportResult("dev-1", report);
  ASSERT_TRUE(reported.ok()) << reported.status();
  EXPECT_FALSE(reported->duplicate());
  EXPECT_TRUE(service_->ReportResult("dev-1", report)->duplicate());
  // Another device cannot report it; the release must match.
  EXPECT_THAT(service_->ReportResult("dev-2", report).status(),
              StatusIs(absl::StatusCode::kNotFound, "not found for device dev-2"));
  report.set_report_id("rep-2");
  report.set_release_id(r2.release_id());
  EXPECT_THAT(service_->ReportResult("dev-1", report).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "is not the release of operation"));
  report.set_release_id(r1.release_id());
  report.set_operation_id("op/1");
  EXPECT_THAT(service_->ReportResult("dev-1", report).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "operation_id"));

  auto ops = service_->ListOperations(l);
  ASSERT_EQ(ops->operations_size(), 2);
  EXPECT_EQ(ops->operations(1).state(), Op::FAILED);
  EXPECT_EQ(ops->operations(1).result(), v1::REMOVE_FAILED);
  EXPECT_EQ(ops->operations(1).message(), "busy");
  // Only the unreported UPDATE is sent again.
  check = service_->CheckForUpdates("dev-1", Inventory(r1));
  ASSERT_EQ(check->operations_size(), 1);
  EXPECT_EQ(check->operations(0).kind(), Op::UPDATE);
}

TEST_F(ComponentOperationsTest, GroupSettingsAreValidated) {
  v1::CreateReleaseRequest r;
  r.set_package_id(package_.package_id());
  r.set_version("1.0.0");
  r.set_artifact_sha256(kSha1);
  auto with = [&](const std::string& group, const std::string& key, const std::string& value) {
    v1::CreateReleaseRequest copy = r;
    v1::GroupSettings* g = copy.add_group_settings();
    g->set_group(group);
    if (!key.empty() || !value.empty()) (*g->mutable_settings())[key] = value;
    return service_->CreateRelease(copy).status();
  };
  EXPECT_THAT(with("Beta", "k", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument, "group_settings[0].group \"Beta\""));
  EXPECT_THAT(with("", "k", "v"), StatusIs(absl::StatusCode::kInvalidArgument, "group"));
  EXPECT_THAT(with("beta", "", ""), StatusIs(absl::StatusCode::kInvalidArgument, "settings has 0"));
  EXPECT_THAT(with("beta", "bad key", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings key \"bad key\""));
  EXPECT_THAT(with("beta", std::string(129, 'k'), "v"),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings key"));
  EXPECT_THAT(with("beta", "k", std::string(4097, 'v')),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings[k]"));
  EXPECT_THAT(with("beta", "k", "a\nb"),
              StatusIs(absl::StatusCode::kInvalidArgument, "line breaks"));
  EXPECT_THAT(with("beta", "k", "\xff"), StatusIs(absl::StatusCode::kInvalidArgument, "UTF-8"));
  v1::CreateReleaseRequest twice = r;
  for (int i = 0; i < 2; ++i) {
    v1::GroupSettings* g = twice.add_group_settings();
    g->set_group("beta");
    (*g->mutable_settings())["k"] = "v";
  }
  EXPECT_THAT(service_->CreateRelease(twice).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "listed twice"));
  v1::CreateReleaseRequest many = r;
  for (int i = 0; i < 33; ++i) {
    v1::GroupSettings* g = many.add_group_settings();
    g->set_group("g" + std::to_string(i));
    (*g->mutable_settings())["k"] = "v";
  }
  EXPECT_THAT(service_->CreateRelease(many).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "at most 32"));
  EXPECT_EQ(store_.release_count(), 0u);
}

TEST_F(ComponentOperationsTest, OffersCarrySettingsMergedForTheDevicesGroups) {
  v1::GroupSettings beta, night;
  beta.set_group("beta");
  (*beta.mutable_settings())["volume"] = "9";
  (*beta.mutable_settings())["channel"] = "beta";
  night.set_group("night");
  (*night.mutable_settings())["theme"] = "dark";
  (*night.mutable_settings())["volume"] = "3";
  v1::Release r1 = Publish("1.0.0", kSha1, {beta, night});
  EXPECT_EQ(r1.group_settings_size(), 2);
  ASSERT_TRUE(AddMembers("night", {"dev-1"}).ok());
  ASSERT_TRUE(AddMembers("beta", {"dev-1", "dev-2"}).ok());

  auto check = service_->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest());
  ASSERT_EQ(check->offers_size(), 1);
  const v1::Release& offered = check->offers(0).release();
  EXPECT_EQ(offered.group_settings_size(), 0);
  // Release, then beta, then night (the release's order): night wins volume.
  EXPECT_EQ(offered.settings().at("volume"), "3");
  EXPECT_EQ(offered.settings().at("theme"), "dark");
  EXPECT_EQ(offered.settings().at("channel"), "beta");
  EXPECT_THAT(check->offers(0).settings_groups(), ElementsAre("beta", "night"));

  check = service_->CheckForUpdates("dev-2", v1::CheckForUpdatesRequest());
  EXPECT_EQ(check->offers(0).release().settings().at("volume"), "9");
  EXPECT_EQ(check->offers(0).release().settings().at("theme"), "light");
  check = service_->CheckForUpdates("dev-9", v1::CheckForUpdatesRequest());
  EXPECT_EQ(check->offers(0).release().settings().at("volume"), "7");
  EXPECT_EQ(check->offers(0).settings_groups_size(), 0);
}

TEST_F(ComponentOperationsTest, ReleasesWithoutOverridesNeverLookUpGroups) {
  Publish("1.0.0", kSha1);
  ASSERT_TRUE(service_->CheckForUpdates("dev-1", v1::CheckForUpdatesRequest()).ok());
  EXPECT_EQ(groups_.groups_of_calls(), 0);
}

TEST_F(ComponentOperationsTest, GroupMembershipValidatesAndPages) {
  v1::GroupMembersRequest r;
  r.set_group("beta");
  EXPECT_THAT(service_->AddGroupMembers(r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_ids has 0"));
  r.add_device_ids("dev 1");
  EXPECT_THAT(service_->AddGroupMembers(r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_ids[0]"));
  r.clear_device_ids();
  for (int i = 0; i < 1001; ++i) r.add_device_ids("d" + std::to_string(i));
  EXPECT_THAT(service_->AddGroupMembers(r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "1 to 1000"));
  r.clear_device_ids();
  r.set_group(std::string(65, 'g'));
  r.add_device_ids("dev-1");
  EXPECT_THAT(service_->AddGroupMembers(r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "group"));
  r.set_group("-beta");
  EXPECT_THAT(service_->AddGroupMembers(r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "group"));

  ASSERT_TRUE(AddMembers("beta", {"c", "a", "b"}).ok());
  EXPECT_EQ(service_
                ->AddGroupMembers([] {
                  v1::GroupMembersRequest q;
                  q.set_group("beta");
                  q.add_device_ids("a");
                  q.add_device_ids("d");
                  return q;
                }())
                ->changed(),
            1);
  v1::ListGroupMembersRequest list;
  list.set_group("beta");
  list.set_limit(2);
  auto page = service_->ListGroupMembers(list);
  EXPECT_THAT(page->device_ids(), ElementsAre("a", "b"));
  EXPECT_EQ(page->next_after_device_id(), "b");
  list.set_after_device_id("b");
  page = service_->ListGroupMembers(list);
  EXPECT_THAT(page->device_ids(), ElementsAre("c", "d"));
  list.set_after_device_id("d");
  page = service_->ListGroupMembers(list);
  EXPECT_TRUE(page->device_ids().empty());
  EXPECT_EQ(page->next_after_device_id(), "");
  list.set_limit(-1);
  EXPECT_THAT(service_->ListGroupMembers(list).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "limit"));

  v1::GroupMembersRequest rm;
  rm.set_group("beta");
  rm.add_device_ids("a");
  rm.add_device_ids("zzz");
  EXPECT_EQ(service_->RemoveGroupMembers(rm)->changed(), 1);
}

TEST_F(ComponentOperationsTest, WithoutStoresTheRpcsAreUnavailable) {
  auto service = CatalogService::Create({.store = &store_,
                                         .manifests = &manifests_,
                                         .clock = &clock_,
                                         .public_download_target = "dns:///dl.example:443"});
  ASSERT_TRUE(service.ok());
  v1::QueueOperationRequest q;
  EXPECT_THAT((*service)->QueueOperation(q).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no group and operation stores"));
  EXPECT_THAT(CatalogService::Create({.store = &store_,
                                      .manifests = &manifests_,
                                      .clock = &clock_,
                                      .public_download_target = "dns:///dl.example:443",
                                      .groups = &groups_})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "or neither"));
}

TEST_F(ComponentOperationsTest, ScomoTreeShowsInventoryAndPendingUpdates) {
  v1::Release r1 = Publish("1.0.0", kSha1);
  v1::Release r2 = Publish("1.1.0", kSha2);
  v1::ReportResultRequest report;
  report.set_report_id("rep-1");
  report.set_release_id(r1.release_id());
  report.set_result(v1::SUCCESS);
  *report.mutable_deployed() = Inventory(r1).inventory();
  report.mutable_deployed(2)->set_state(v1::INACTIVE);
  ASSERT_TRUE(service_->ReportResult("dev-1", report).ok());
  ASSERT_TRUE(Queue(Op::UPDATE, "DC_1", "dev-1").ok());

  v1::GetScomoTreeRequest req;
  req.set_device_id("dev-1");
  auto tree = service_->GetScomoTree(req);
  ASSERT_TRUE(tree.ok()) << tree.status();
  std::map<std::string, std::string> nodes;
  for (const auto& n : tree->nodes()) nodes[n.path()] = n.value();
  const std::string dl = "./SCOMO/Download/" + r2.release_id();
  EXPECT_EQ(nodes[dl + "/PkgID"], r2.release_id());
  EXPECT_EQ(nodes[dl + "/Name"], "suite");
  EXPECT_EQ(nodes[dl + "/PkgURL"], "dns:///dl.example:443/objects/" + kSha2);
  EXPECT_EQ(nodes[dl + "/Status"], "Idle");
  EXPECT_THAT(nodes[dl + "/DCinfo"], HasSubstr("DC_1:dc1.bin;DC_2:dc2.bin"));
  EXPECT_EQ(nodes["./SCOMO/Inventory/Deployed/DC_3/State"], "Inactive");
  EXPECT_EQ(nodes["./SCOMO/Inventory/Deployed/DC_1/State"], "Active");
  EXPECT_EQ(nodes["./SCOMO/Inventory/Deployed/DC_1/PkgIDRef"], r1.release_id());
  EXPECT_EQ(nodes["./SCOMO/Inventory/Deployed/DC_1/Version"], "1.0.0");
  EXPECT_EQ(nodes["./SCOMO/Inventory/Deployed/DC_1/Author"], "Acme");
  EXPECT_EQ(tree->nodes_size(), 7 + 5 * 6);
  req.set_device_id("bad id");
  EXPECT_THAT(service_->GetScomoTree(req).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "device_id"));
}

}  // namespace
}  // namespace updraft::catalog
