// End-to-end per-component operations, device groups and group settings:
// the real device SDK against the whole platform (PostgreSQL, Redis).
#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "tests/e2e_fixture.h"

namespace updraft::e2e {
namespace {

using device::UpdateOutcome;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using Op = v1::ComponentOperation;

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class ComponentOpsTest : public PlatformTest {
 protected:
  // A five-DC "suite" artifact: dcN.bin for N = 1..5; `changed` DCs carry
  // content of `version`, the others of 1.0.0.
  std::string SuiteTar(const std::string& version, int changed) {
    std::vector<device::testutil::TarEntry> files;
    for (int i = 1; i <= 5; ++i) {
      files.push_back(device::testutil::File(
          absl::StrCat("dc", i, ".bin"),
          PseudoRandomBytes(absl::StrCat("dc", i, "-", i <= changed ? version : "1.0.0"), 5000)));
    }
    return device::testutil::BuildTar(files);
  }

  // Creates and publishes suite `version` (DCinfo variant B with per-DC
  // versions: DCs 1..changed at `version`, the rest at 1.0.0).
  v1::Release PublishSuite(const std::string& version, int changed,
                           std::vector<v1::GroupSettings> groups = {}) {
    if (suite_.package_id().empty()) suite_ = *platform_->CreatePackage("suite", "acme");
    auto uploaded = platform_->Upload(SuiteTar(version, changed), kChunkSize);
    EXPECT_TRUE(uploaded.ok()) << uploaded.status();
    v1::CreateReleaseRequest r;
    r.set_package_id(suite_.package_id());
    r.set_version(version);
    r.set_artifact_sha256(uploaded->sha256());
    r.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
    for (int i = 1; i <= 5; ++i) {
      v1::DcEntry* e = r.mutable_dcinfo()->add_entries();
      e->set_author("acme");
      e->set_name(absl::StrCat("part", i));
      e->set_version(i <= changed ? version : "1.0.0");
      e->add_files(absl::StrCat("dc", i, ".bin"));
    }
    (*r.mutable_settings())["volume"] = "7";
    (*r.mutable_settings())["theme"] = "light";
    for (auto& g : groups) *r.add_group_settings() = g;
    auto created = platform_->CreateRelease(r);
    EXPECT_TRUE(created.ok()) << created.status();
    auto published = platform_->PublishRelease(created->release_id());
    EXPECT_TRUE(published.ok()) << published.status();
    return *published;
  }

  template <typename Request, typename Response, typename Rpc>
  absl::StatusOr<Response> Admin(Rpc rpc, const Request& request) {
    grpc::ClientContext ctx;
    UPDRAFT_RETURN_IF_ERROR(platform_->AuthorizeAsAdmin(&ctx));
    Response response;
    grpc::Status s = (platform_->catalog_admin().*rpc)(&ctx, request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
    return response;
  }

  absl::StatusOr<v1::QueueOperationResponse> Queue(Op::Kind kind, const std::string& dc,
                                                   const std::string& device,
                                                   const std::string& group = "") {
    v1::QueueOperationRequest q;
    q.set_kind(kind);
    q.set_dc_id(dc);
    q.set_device_id(device);
    q.set_group(group);
    return Admin<v1::QueueOperationRequest, v1::QueueOperationResponse>(
        &v1::CatalogAdmin::StubInterface::QueueOperation, q);
  }

  absl::Status AddToGroup(const std::string& group, const std::string& device) {
    v1::GroupMembersRequest r;
    r.set_group(group);
    r.add_device_ids(device);
    return Admin<v1::GroupMembersRequest, v1::GroupMembersResponse>(
               &v1::CatalogAdmin::StubInterface::AddGroupMembers, r)
        .status();
  }

  std::vector<Op> Operations(const std::string& device) {
    v1::ListOperationsRequest r;
    r.set_device_id(device);
    auto listed = Admin<v1::ListOperationsRequest, v1::ListOperationsResponse>(
        &v1::CatalogAdmin::StubInterface::ListOperations, r);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return std::vector<Op>(listed->operations().begin(), listed->operations().end());
  }

  std::map<std::string, std::string> Tree(const std::string& device) {
    v1::GetScomoTreeRequest r;
    r.set_device_id(device);
    auto tree = Admin<v1::GetScomoTreeRequest, v1::ScomoTree>(
        &v1::CatalogAdmin::StubInterface::GetScomoTree, r);
    EXPECT_TRUE(tree.ok()) << tree.status();
    std::map<std::string, std::string> out;
    for (const auto& n : tree->nodes()) out[n.path()] = n.value();
    return out;
  }

  static std::map<std::string, v1::InventoryComponent> ByDcId(const v1::DeviceState& state) {
    std::map<std::string, v1::InventoryComponent> out;
    for (const auto& c : state.deployed()) out[c.dc_id()] = c;
    return out;
  }

  v1::Package suite_;
};

// Issue 4 item 9: a package with five DCs where two are updated and one
// removed; group overrides applied and shown in the device's history.
TEST_F(ComponentOpsTest, FiveDcsTwoUpdatedOneRemovedOneDeactivated) {
  auto device = NewDevice("dev-ops-1");
  ASSERT_NE(device, nullptr);
  ASSERT_TRUE(AddToGroup("beta", "dev-ops-1").ok());
  v1::GroupSettings beta;
  beta.set_group("beta");
  (*beta.mutable_settings())["volume"] = "9";
  (*beta.mutable_settings())["channel"] = "beta";
  v1::Release r1 = PublishSuite("1.0.0", 0, {beta});
  ASSERT_EQ(r1.group_settings_size(), 1);
  std::vector<std::string> dc;
  for (const auto& e : r1.dcinfo().entries()) dc.push_back(e.dc_id());

  auto installed = device->client().RunActiveUpgrade();
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_THAT(*installed, SizeIs(1));
  EXPECT_EQ((*installed)[0].result, v1::SUCCESS) << (*installed)[0].message;
  ASSERT_THAT(device->offers(), SizeIs(1));
  EXPECT_EQ(device->offers()[0].release().group_settings_size(), 0);
  EXPECT_EQ(ReadFile(device->PackageDir("suite") + "/.updraft/settings.conf"),
            "channel=beta\ntheme=light\nvolume=9\n");
  v1::DeviceState state = DeviceState("dev-ops-1");
  ASSERT_THAT(state.history(), SizeIs(1));
  EXPECT_EQ(state.history(0).applied_settings().at("volume"), "9");
  EXPECT_EQ(state.history(0).applied_settings().at("channel"), "beta");
  EXPECT_EQ(state.deployed_size(), 5);

  // 1.1.0 changes DCs 1 and 2. The operator updates DC 1 (its release
  // carries DC 2 too) and removes DC 5 on the group.
  v1::Release r2 = PublishSuite("1.1.0", 2, {beta});
  auto update = Queue(Op::UPDATE, dc[0], "dev-ops-1");
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->operations(0).release_id(), r2.release_id());
  auto remove = Queue(Op::REMOVE, dc[4], "", "beta");
  ASSERT_TRUE(remove.ok()) << remove.status();
  ASSERT_THAT(remove->operations(), SizeIs(1));

  auto ran = device->client().RunActiveUpgrade();
  ASSERT_TRUE(ran.ok()) << ran.status();
  ASSERT_THAT(*ran, SizeIs(2));  // The UPDATE operation replaced the plain offer.
  for (const UpdateOutcome& o : *ran) {
    EXPECT_EQ(o.result, v1::SUCCESS) << o.message;
    EXPECT_TRUE(o.reported) << o.report_error;
  }
  EXPECT_EQ((*ran)[0].operation_kind, Op::UPDATE);
  EXPECT_EQ((*ran)[1].operation_kind, Op::REMOVE);
  const std::string pkg = device->PackageDir("suite");
  EXPECT_EQ(ReadFile(pkg + "/dc1.bin"), PseudoRandomBytes("dc1-1.1.0", 5000));
  EXPECT_EQ(ReadFile(pkg + "/dc2.bin"), PseudoRandomBytes("dc2-1.1.0", 5000));
  EXPECT_EQ(ReadFile(pkg + "/dc3.bin"), PseudoRandomBytes("dc3-1.0.0", 5000));
  EXPECT_EQ(ReadFile(pkg + "/dc5.bin"), "<missing>");

  auto deployed = ByDcId(DeviceState("dev-ops-1"));
  ASSERT_EQ(deployed.size(), 4u);
  EXPECT_EQ(deployed[dc[0]].version(), "1.1.0");
  EXPECT_EQ(deployed[dc[1]].version(), "1.1.0");
  EXPECT_EQ(deployed[dc[2]].version(), "1.0.0");
  EXPECT_EQ(deployed[dc[3]].version(), "1.0.0");
  EXPECT_EQ(deployed.count(dc[4]), 0u);
  std::vector<Op> ops = Operations("dev-ops-1");
  ASSERT_THAT(ops, SizeIs(2));
  for (const Op& op : ops) {
    EXPECT_EQ(op.state(), Op::SUCCEEDED);
    EXPECT_EQ(op.result(), v1::SUCCESS);
    EXPECT_GT(op.completed_at_unix(), 0);
  }
  EXPECT_EQ(ops[1].group(), "beta");

  // Deactivate DC 3: the Deployed record and the SCOMO tree show it.
  ASSERT_TRUE(Queue(Op::DEACTIVATE, dc[2], "dev-ops-1").ok());
  auto tree = Tree("dev-ops-1");
  EXPECT_EQ(tree["./SCOMO/Inventory/Deployed/" + dc[2] + "/State"], "Active");
  ran = device->client().RunActiveUpgrade();
  ASSERT_TRUE(ran.ok()) << ran.status();
  ASSERT_THAT(*ran, SizeIs(1));
  EXPECT_EQ((*ran)[0].result, v1::SUCCESS) << (*ran)[0].message;
  EXPECT_EQ(ByDcId(DeviceState("dev-ops-1"))[dc[2]].state(), v1::INACTIVE);
  EXPECT_TRUE(Exists(pkg + "/.updraft/inactive/" + dc[2]));
  tree = Tree("dev-ops-1");
  EXPECT_EQ(tree["./SCOMO/Inventory/Deployed/" + dc[2] + "/State"], "Inactive");
  EXPECT_EQ(tree["./SCOMO/Inventory/Deployed/" + dc[0] + "/Version"], "1.1.0");
  EXPECT_EQ(tree["./SCOMO/Inventory/Deployed/" + dc[0] + "/PkgIDRef"], r2.release_id());
  EXPECT_EQ(tree["./SCOMO/Inventory/Deployed/" + dc[0] + "/Author"], "acme");
  EXPECT_EQ(tree.count("./SCOMO/Inventory/Deployed/" + dc[4] + "/ID"), 0u);

  // Everything done: nothing new, no operation delivered again.
  ran = device->client().RunActiveUpgrade();
  ASSERT_TRUE(ran.ok());
  ASSERT_THAT(*ran, SizeIs(1));
  EXPECT_TRUE((*ran)[0].nothing_new);
}

TEST_F(ComponentOpsTest, FailedOperationIsReportedWithItsScomoCode) {
  auto device = NewDevice("dev-ops-2");
  ASSERT_NE(device, nullptr);
  v1::Release r1 = PublishSuite("1.0.0", 0);
  // Queued before the device has the suite: the check answer lists the
  // fresh install first, so the activation finds the DC deployed.
  ASSERT_TRUE(Queue(Op::ACTIVATE, r1.dcinfo().entries(0).dc_id(), "dev-ops-2").ok());
  auto ran = device->client().RunActiveUpgrade();
  ASSERT_TRUE(ran.ok()) << ran.status();
  ASSERT_THAT(*ran, SizeIs(2));  // The fresh install, then the operation.
  EXPECT_EQ((*ran)[0].result, v1::SUCCESS);
  EXPECT_EQ((*ran)[1].result, v1::SUCCESS) << (*ran)[1].message;

  // Activating a DC removed just before fails with 1409.
  ASSERT_TRUE(Queue(Op::REMOVE, r1.dcinfo().entries(1).dc_id(), "dev-ops-2").ok());
  ASSERT_TRUE(Queue(Op::ACTIVATE, r1.dcinfo().entries(1).dc_id(), "dev-ops-2").ok());
  ran = device->client().RunActiveUpgrade();
  ASSERT_TRUE(ran.ok());
  ASSERT_THAT(*ran, SizeIs(2));
  EXPECT_EQ((*ran)[0].result, v1::SUCCESS);
  EXPECT_EQ((*ran)[1].result, v1::ACTIVATE_FAILED);
  EXPECT_THAT((*ran)[1].message, HasSubstr("not deployed"));
  std::vector<Op> ops = Operations("dev-ops-2");
  ASSERT_THAT(ops, SizeIs(3));
  EXPECT_EQ(ops[2].state(), Op::FAILED);
  EXPECT_EQ(ops[2].result(), v1::ACTIVATE_FAILED);
  v1::DeviceState state = DeviceState("dev-ops-2");
  EXPECT_EQ(state.history(state.history_size() - 1).operation_id(), ops[2].operation_id());
}

TEST_F(ComponentOpsTest, ManagementRpcsNeedAnOperatorToken) {
  v1::QueueOperationRequest q;
  q.set_kind(Op::REMOVE);
  q.set_dc_id("DC_1");
  q.set_device_id("dev-x");
  grpc::ClientContext ctx;
  v1::QueueOperationResponse response;
  EXPECT_EQ(platform_->catalog_admin().QueueOperation(&ctx, q, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::GroupMembersRequest bad;
  bad.set_group("Bad Group");
  bad.add_device_ids("dev-x");
  auto added = Admin<v1::GroupMembersRequest, v1::GroupMembersResponse>(
      &v1::CatalogAdmin::StubInterface::AddGroupMembers, bad);
  EXPECT_EQ(added.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::e2e
