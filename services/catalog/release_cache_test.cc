#include "services/catalog/release_cache.h"

#include <thread>

#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"

namespace updraft::catalog {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

v1::Release MakeRelease(const std::string& id, const std::string& version) {
  v1::Release r;
  r.set_release_id(id);
  r.set_package_id("pkg_1");
  r.set_version(version);
  r.set_state(v1::DRAFT);
  return r;
}

class ReleaseCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Package p;
    p.set_package_id("pkg_1");
    p.set_name("app");
    p.set_author("Acme");
    ASSERT_TRUE(store_.CreatePackage(p, kNow).ok());
  }
  FakeCatalogStore store_;
};

TEST_F(ReleaseCacheTest, StartsEmptyAndReloadSwapsInANewSnapshot) {
  ReleaseCache cache(&store_);
  std::shared_ptr<const ReleaseSnapshot> initial = cache.Current();
  EXPECT_EQ(initial->generation, 0u);
  EXPECT_TRUE(initial->releases.empty());

  ASSERT_TRUE(store_.CreateRelease(MakeRelease("r1", "1.0.0"), kNow).ok());
  ASSERT_TRUE(store_.CreateRelease(MakeRelease("r2", "2.0.0"), kNow).ok());
  ASSERT_TRUE(store_.PublishRelease("r1", nullptr, kNow).ok());
  ASSERT_TRUE(cache.Reload().ok());
  std::shared_ptr<const ReleaseSnapshot> first = cache.Current();
  EXPECT_EQ(first->generation, 1u);
  EXPECT_EQ(first->releases.size(), 1u);  // drafts are not in it
  EXPECT_EQ(first->index.Decide({}, {}).offers.at(0).release_id, "r1");

  ASSERT_TRUE(store_.PublishRelease("r2", nullptr, kNow).ok());
  ASSERT_TRUE(store_.WithdrawRelease("r1", kNow).ok());
  ASSERT_TRUE(cache.Reload().ok());
  std::shared_ptr<const ReleaseSnapshot> second = cache.Current();
  EXPECT_EQ(second->generation, 2u);
  EXPECT_EQ(second->releases.size(), 2u);  // withdrawn ones stay known
  EXPECT_EQ(second->releases.at("r1").state(), v1::WITHDRAWN);
  EXPECT_EQ(second->index.Decide({}, {}).offers.at(0).release_id, "r2");
  // Readers holding the old snapshot still see it unchanged.
  EXPECT_EQ(first->releases.size(), 1u);
  EXPECT_EQ(first->index.Decide({}, {}).offers.at(0).release_id, "r1");
}

TEST_F(ReleaseCacheTest, WaitForWakesOnReloadAndTimesOut) {
  ReleaseCache cache(&store_);
  auto has_r1 = [](const ReleaseSnapshot& s) { return s.releases.count("r1") > 0; };
  EXPECT_FALSE(cache.WaitFor(has_r1, absl::Milliseconds(10)));
  ASSERT_TRUE(store_.CreateRelease(MakeRelease("r1", "1.0.0"), kNow).ok());
  ASSERT_TRUE(store_.PublishRelease("r1", nullptr, kNow).ok());
  std::thread reloader([&] { EXPECT_TRUE(cache.Reload().ok()); });
  EXPECT_TRUE(cache.WaitFor(has_r1, absl::Seconds(30)));
  reloader.join();
}

TEST_F(ReleaseCacheTest, BadStoredCompatibilityMakesReleaseUnofferable) {
  v1::Release r = MakeRelease("r1", "1.0.0");
  r.set_state(v1::PUBLISHED);
  r.mutable_compatibility()->set_min_os_version("not a version");
  CatalogRelease converted = ToCatalogRelease(r);
  EXPECT_FALSE(converted.published);
  r.mutable_compatibility()->set_min_os_version("13");
  r.mutable_compatibility()->add_models("A1");
  converted = ToCatalogRelease(r);
  EXPECT_TRUE(converted.published);
  EXPECT_EQ(converted.compatibility.min_os->text(), "13.0.0");
  EXPECT_EQ(converted.compatibility.models, std::vector<std::string>{"A1"});
}

}  // namespace
}  // namespace updraft::catalog
