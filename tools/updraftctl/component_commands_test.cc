#include "tools/updraftctl/component_commands.h"

#include <cstdio>

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

// Runs `command` with `argv` and returns what it printed.
std::string RunCommand(absl::Status (*command)(const Args&, Stubs&, FILE*),
                       const std::vector<std::string>& argv, Stubs& stubs, absl::Status* status) {
  Args args;
  EXPECT_TRUE(ParseArgs(argv, &args).ok());
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  *status = command(args, stubs, out);
  fclose(out);
  std::string text(buffer, size);
  free(buffer);
  return text;
}

class ComponentCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = std::make_unique<v1::MockCatalogAdminStub>();
    catalog_ = catalog.get();
    stubs_.catalog = std::move(catalog);
    stubs_.token = "tok";
  }
  Stubs stubs_;
  v1::MockCatalogAdminStub* catalog_ = nullptr;
  absl::Status status_;
};

TEST_F(ComponentCommandsTest, QueueOperationSendsKindAndTarget) {
  v1::QueueOperationRequest sent;
  v1::QueueOperationResponse resp;
  v1::ComponentOperation* op = resp.add_operations();
  op->set_operation_id("op_1");
  op->set_device_id("dev-1");
  op->set_kind(v1::ComponentOperation::REMOVE);
  op->set_dc_id("DC_5");
  op->set_release_id("rel_1");
  EXPECT_CALL(*catalog_, QueueOperation(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(resp), Return(grpc::Status::OK)));
  std::string out = RunCommand(QueueOperation, {"--kind=remove", "--dc_id=DC_5", "--group=beta"},
                               stubs_, &status_);
  ASSERT_TRUE(status_.ok()) << status_;
  EXPECT_EQ(sent.kind(), v1::ComponentOperation::REMOVE);
  EXPECT_EQ(sent.group(), "beta");
  EXPECT_EQ(sent.device_id(), "");
  EXPECT_THAT(out, HasSubstr("op_1"));
  EXPECT_THAT(out, HasSubstr("1 operation(s) queued"));
}

TEST_F(ComponentCommandsTest, QueueOperationRejectsBadUsageWithoutCalling) {
  EXPECT_CALL(*catalog_, QueueOperation(_, _, _)).Times(0);
  RunCommand(QueueOperation, {"--kind=explode", "--dc_id=DC_5", "--device_id=d"}, stubs_, &status_);
  EXPECT_THAT(status_.message(), HasSubstr("--kind"));
  RunCommand(QueueOperation, {"--kind=remove", "--dc_id=DC_5"}, stubs_, &status_);
  EXPECT_THAT(status_.message(), HasSubstr("exactly one"));
  RunCommand(QueueOperation, {"--kind=remove", "--dc_id=DC_5", "--device_id=d", "--group=g"},
             stubs_, &status_);
  EXPECT_THAT(status_.message(), HasSubstr("exactly one"));
  RunCommand(QueueOperation, {"--kind=remove", "--device_id=d"}, stubs_, &status_);
  EXPECT_THAT(status_.message(), HasSubstr("--dc_id is required"));
}

TEST_F(ComponentCommandsTest, OperationsPrintsATableAndServerErrorsPassThrough) {
  v1::ListOperationsResponse resp;
  v1::ComponentOperation* op = resp.add_operations();
  op->set_operation_id("op_9");
  op->set_kind(v1::ComponentOperation::ACTIVATE);
  op->set_state(v1::ComponentOperation::FAILED);
  op->set_result(v1::ACTIVATE_FAILED);
  op->set_message("not deployed");
  EXPECT_CALL(*catalog_, ListOperations(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(resp), Return(grpc::Status::OK)))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "role viewer needed")));
  std::string out = RunCommand(Operations, {"--device_id=dev-1"}, stubs_, &status_);
  ASSERT_TRUE(status_.ok());
  EXPECT_THAT(out, HasSubstr("ACTIVATE"));
  EXPECT_THAT(out, HasSubstr("FAILED"));
  EXPECT_THAT(out, HasSubstr("1409"));
  EXPECT_THAT(out, HasSubstr("not deployed"));
  RunCommand(Operations, {"--device_id=dev-1"}, stubs_, &status_);
  EXPECT_EQ(status_.code(), absl::StatusCode::kPermissionDenied);
  RunCommand(Operations, {"--device_id=dev-1", "--limit=x"}, stubs_, &status_);
  EXPECT_EQ(status_.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ComponentCommandsTest, GroupCommandsAndScomoTree) {
  v1::GroupMembersRequest sent;
  v1::GroupMembersResponse changed;
  changed.set_changed(2);
  EXPECT_CALL(*catalog_, AddGroupMembers(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(changed), Return(grpc::Status::OK)));
  std::string out =
      RunCommand(GroupAdd, {"--group=beta", "--device_id=a", "--device_id=b"}, stubs_, &status_);
  ASSERT_TRUE(status_.ok());
  EXPECT_THAT(sent.device_ids(), ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(out, HasSubstr("2 of 2 devices added"));

  v1::ListGroupMembersResponse page;
  page.add_device_ids("a");
  page.set_next_after_device_id("a");
  EXPECT_CALL(*catalog_, ListGroupMembers(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(page), Return(grpc::Status::OK)));
  out = RunCommand(GroupList, {"--group=beta", "--limit=1"}, stubs_, &status_);
  EXPECT_THAT(out, HasSubstr("more: --after=a"));

  v1::ScomoTree tree;
  v1::ScomoNode* n = tree.add_nodes();
  n->set_path("./SCOMO/Inventory/Deployed/DC_1/State");
  n->set_value("Inactive");
  EXPECT_CALL(*catalog_, GetScomoTree(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(tree), Return(grpc::Status::OK)));
  out = RunCommand(ScomoTree, {"--device_id=dev-1"}, stubs_, &status_);
  EXPECT_EQ(out, "./SCOMO/Inventory/Deployed/DC_1/State  Inactive\n");
}

TEST(ParseGroupSettingTest, GroupsKeepFirstMentionOrder) {
  v1::CreateReleaseRequest r;
  ASSERT_TRUE(ParseGroupSetting("night:theme=dark", &r).ok());
  ASSERT_TRUE(ParseGroupSetting("beta:volume=9", &r).ok());
  ASSERT_TRUE(ParseGroupSetting("night:url=a=b", &r).ok());
  ASSERT_EQ(r.group_settings_size(), 2);
  EXPECT_EQ(r.group_settings(0).group(), "night");
  EXPECT_EQ(r.group_settings(0).settings().at("url"), "a=b");
  EXPECT_EQ(r.group_settings(1).settings().at("volume"), "9");
  EXPECT_FALSE(ParseGroupSetting("novalue", &r).ok());
  EXPECT_FALSE(ParseGroupSetting(":k=v", &r).ok());
  EXPECT_FALSE(ParseGroupSetting("g:=v", &r).ok());
}

}  // namespace
}  // namespace updraft::ctl
