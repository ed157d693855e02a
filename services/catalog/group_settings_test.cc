#include "services/catalog/group_settings.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;

v1::GroupSettings Group(const std::string& name, std::map<std::string, std::string> settings) {
  v1::GroupSettings g;
  g.set_group(name);
  for (auto& [k, v] : settings) (*g.mutable_settings())[k] = v;
  return g;
}

TEST(ApplyGroupSettings, LaterOverridesInReleaseOrderWin) {
  v1::Release r;
  (*r.mutable_settings())["a"] = "release";
  (*r.mutable_settings())["b"] = "release";
  *r.add_group_settings() = Group("zeta", {{"a", "zeta"}, {"c", "zeta"}});
  *r.add_group_settings() = Group("alpha", {{"a", "alpha"}});
  *r.add_group_settings() = Group("other", {{"b", "other"}});
  EXPECT_THAT(ApplyGroupSettings(&r, {"alpha", "zeta"}), ElementsAre("zeta", "alpha"));
  EXPECT_EQ(r.settings().at("a"), "alpha");
  EXPECT_EQ(r.settings().at("b"), "release");
  EXPECT_EQ(r.settings().at("c"), "zeta");
  EXPECT_EQ(r.group_settings_size(), 0);
}

TEST(ApplyGroupSettings, NoGroupsKeepsReleaseSettingsAndHidesOverrides) {
  v1::Release r;
  (*r.mutable_settings())["a"] = "release";
  *r.add_group_settings() = Group("beta", {{"a", "beta"}});
  EXPECT_TRUE(ApplyGroupSettings(&r, {}).empty());
  EXPECT_EQ(r.settings().at("a"), "release");
  EXPECT_EQ(r.group_settings_size(), 0);
}

}  // namespace
}  // namespace updraft::catalog
