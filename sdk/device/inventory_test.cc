#include "sdk/device/inventory.h"

#include "gtest/gtest.h"
#include "sdk/device/result_code.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using testutil::DemoOffer;

TEST(ValidateOfferTest, AcceptsAGoodOffer) {
  EXPECT_TRUE(ValidateOffer(DemoOffer("r_1", "1.0.0", "bytes", 4), {}).ok());
}

TEST(ValidateOfferTest, RejectsBadOffers) {
  std::vector<v1::Offer> bad;
  bad.push_back(DemoOffer("", "1.0.0", "bytes", 4));
  bad.push_back(DemoOffer("r_1", "one", "bytes", 4));
  v1::Offer o = DemoOffer("r_1", "1.0.0", "bytes", 4);
  o.mutable_release()->set_package_name("../etc");
  bad.push_back(o);
  o = DemoOffer("r_1", "1.0.0", "bytes", 4);
  o.mutable_release()->mutable_artifact()->mutable_chunk_sha256()->RemoveLast();
  bad.push_back(o);
  o = DemoOffer("r_1", "1.0.0", "bytes", 4);
  o.mutable_release()->mutable_dcinfo()->mutable_entries(1)->set_dc_id("DC_1");
  bad.push_back(o);
  o = DemoOffer("r_1", "1.0.0", "bytes", 4);
  o.mutable_release()->mutable_dcinfo()->mutable_entries(0)->clear_dc_id();
  bad.push_back(o);
  for (const v1::Offer& offer : bad) {
    absl::Status s = ValidateOffer(offer, {});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << offer.DebugString();
    EXPECT_EQ(ResultCodeOf(s, v1::RESULT_CODE_UNSPECIFIED), v1::PACKAGE_VALIDATION_FAILED);
  }
}

TEST(ValidateOfferTest, RejectsRollbackAndReinstall) {
  v1::DeviceLocalState state;
  RecordInstalled(state, DemoOffer("r_2", "2.0.0", "b", 4).release());
  EXPECT_EQ(ValidateOffer(DemoOffer("r_1", "1.9.0", "b", 4), state).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ValidateOffer(DemoOffer("r_1", "2.0.0", "b", 4), state).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ValidateOffer(DemoOffer("r_3", "2.0.1", "b", 4), state).ok());
}

TEST(InventoryTest, DeliveredThenDeployed) {
  v1::DeviceLocalState state;
  v1::Release r = DemoOffer("r_1", "1.0.0", "b", 4).release();
  RecordDelivered(state, r);
  RecordDelivered(state, r);
  ASSERT_EQ(state.delivered_size(), 1);
  EXPECT_EQ(state.delivered(0).location(), v1::DELIVERED);
  EXPECT_EQ(state.delivered(0).author(), "acme");
  EXPECT_EQ(InventoryOf(state).size(), 1u);

  std::vector<std::string> ids = RecordInstalled(state, r);
  EXPECT_EQ(ids, (std::vector<std::string>{"DC_1", "DC_2"}));
  EXPECT_EQ(state.delivered_size(), 0);
  ASSERT_EQ(state.deployed_size(), 2);
  const v1::InventoryComponent& c = state.deployed(1);
  EXPECT_EQ(c.dc_id(), "DC_2");
  EXPECT_EQ(c.release_id(), "r_1");
  EXPECT_EQ(c.author(), "acme");
  EXPECT_EQ(c.name(), "codec");
  EXPECT_EQ(c.version(), "1.0.0");
  EXPECT_EQ(c.location(), v1::DEPLOYED);
  EXPECT_EQ(c.state(), v1::ACTIVE);
  ASSERT_EQ(state.packages_size(), 1);
  EXPECT_EQ(state.packages(0).version(), "1.0.0");
}

TEST(InventoryTest, UpgradeReplacesOlderNodesAndKeepsOthers) {
  v1::DeviceLocalState state;
  v1::InventoryComponent offline;
  offline.set_author("other");
  offline.set_name("game");
  offline.set_version("3.0");
  offline.set_location(v1::DEPLOYED);
  *state.add_deployed() = offline;
  // A side-loaded copy of the codec, identified by author+name.
  v1::InventoryComponent sideloaded = offline;
  sideloaded.set_author("acme");
  sideloaded.set_name("codec");
  *state.add_deployed() = sideloaded;

  RecordInstalled(state, DemoOffer("r_1", "1.0.0", "b", 4).release());
  ASSERT_EQ(state.deployed_size(), 3);  // game + DC_1 + DC_2; side-loaded codec replaced

  // 1.1.0 assigns new IDs: every node of 1.0.0 goes.
  std::vector<std::string> ids =
      RecordInstalled(state, DemoOffer("r_2", "1.1.0", "b", 4, v1::OVERWRITE, "DCX_").release());
  EXPECT_EQ(ids, (std::vector<std::string>{"DCX_1", "DCX_2"}));
  ASSERT_EQ(state.deployed_size(), 3);
  EXPECT_EQ(state.deployed(0).name(), "game");
  EXPECT_EQ(state.deployed(1).dc_id(), "DCX_1");
  EXPECT_EQ(state.deployed(1).version(), "1.1.0");
  EXPECT_EQ(state.deployed(2).dc_id(), "DCX_2");
  ASSERT_EQ(state.packages_size(), 1);
  EXPECT_EQ(state.packages(0).release_id(), "r_2");
}

TEST(InventoryTest, ReleaseWithoutDcInfoGetsOnePackageNode) {
  v1::DeviceLocalState state;
  v1::Release r = DemoOffer("r_1", "1.0.0", "b", 4).release();
  r.clear_dcinfo();
  EXPECT_TRUE(RecordInstalled(state, r).empty());
  ASSERT_EQ(state.deployed_size(), 1);
  EXPECT_EQ(state.deployed(0).name(), "demo-app");
  EXPECT_EQ(state.deployed(0).release_id(), "r_1");
}

}  // namespace
}  // namespace updraft::device
