#include "sdk/device/component_ops.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

using ::testing::ElementsAre;
using Op = v1::ComponentOperation;

v1::DeviceLocalState TwoPackages() {
  v1::DeviceLocalState s;
  auto add = [&](const std::string& dc, const std::string& release) {
    v1::InventoryComponent* c = s.add_deployed();
    c->set_dc_id(dc);
    c->set_release_id(release);
    c->set_name(dc + "-name");
    c->set_version("1.0.0");
    c->set_state(v1::ACTIVE);
  };
  add("DC_1", "r_a");
  add("DC_2", "r_a");
  add("DC_3", "r_b");
  v1::LocalPackage* a = s.add_packages();
  a->set_package_name("pkg-a");
  a->set_release_id("r_a");
  a->add_dc_ids("DC_1");
  a->add_dc_ids("DC_2");
  v1::LocalPackage* b = s.add_packages();
  b->set_package_name("pkg-b");
  b->set_release_id("r_b");
  b->add_dc_ids("DC_3");
  v1::InventoryComponent* offline = s.add_deployed();
  offline->set_name("sideloaded");
  offline->set_version("3");
  return s;
}

TEST(FindDeployedComponent, FindsPackageAndWhetherItIsTheLastDc) {
  v1::DeviceLocalState s = TwoPackages();
  bool last = false;
  auto ref = FindDeployedComponent(s, "DC_1", Op::REMOVE, &last);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->package_name, "pkg-a");
  EXPECT_EQ(ref->name, "DC_1-name");
  EXPECT_FALSE(last);
  ref = FindDeployedComponent(s, "DC_3", Op::REMOVE, &last);
  EXPECT_EQ(ref->package_name, "pkg-b");
  EXPECT_TRUE(last);
  auto missing = FindDeployedComponent(s, "DC_9", Op::ACTIVATE, &last);
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(ResultCodeOf(missing.status(), v1::UNDEFINED_ERROR), v1::ACTIVATE_FAILED);
  // An offline component has no DC ID to address.
  EXPECT_FALSE(FindDeployedComponent(s, "", Op::REMOVE, &last).ok());
}

TEST(ApplyComponentOperation, SetsStateAndRemoves) {
  v1::DeviceLocalState s = TwoPackages();
  ApplyComponentOperation(s, Op::DEACTIVATE, "DC_2");
  EXPECT_EQ(s.deployed(1).state(), v1::INACTIVE);
  ApplyComponentOperation(s, Op::ACTIVATE, "DC_2");
  EXPECT_EQ(s.deployed(1).state(), v1::ACTIVE);
  ApplyComponentOperation(s, Op::REMOVE, "DC_2");
  ASSERT_EQ(s.deployed_size(), 3);
  EXPECT_THAT(s.packages(0).dc_ids(), ElementsAre("DC_1"));
  ApplyComponentOperation(s, Op::REMOVE, "DC_3");
  ASSERT_EQ(s.packages_size(), 1);
  EXPECT_EQ(s.packages(0).package_name(), "pkg-a");
  EXPECT_EQ(s.deployed_size(), 2);
}

TEST(DoneOperations, RemembersTheLatestOnes) {
  v1::DeviceLocalState s;
  for (int i = 0; i < kMaxDoneOperations + 10; ++i) MarkOperationDone(s, "op_" + std::to_string(i));
  MarkOperationDone(s, "op_300");
  EXPECT_EQ(s.done_operations_size(), kMaxDoneOperations);
  EXPECT_FALSE(OperationDone(s, "op_0"));
  EXPECT_TRUE(OperationDone(s, "op_265"));
  EXPECT_EQ(FailureCodeOf(Op::REMOVE), v1::REMOVE_FAILED);
  EXPECT_EQ(FailureCodeOf(Op::DEACTIVATE), v1::DEACTIVATE_FAILED);
  EXPECT_EQ(FailureCodeOf(Op::KIND_UNSPECIFIED), v1::UNDEFINED_ERROR);
}

}  // namespace
}  // namespace updraft::device
