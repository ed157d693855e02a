#include "services/catalog/update_decider.h"

#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

CatalogRelease Release(std::string id, std::string package, std::string version,
                       std::vector<CatalogDc> dcs = {}, bool published = true) {
  CatalogRelease r;
  r.release_id = std::move(id);
  r.package_id = "pkg_" + package;
  r.package_name = package;
  r.version = std::move(version);
  r.published = published;
  r.dcs = std::move(dcs);
  return r;
}

DeviceComponent Installed(std::string release_id, std::string author = "", std::string name = "",
                          std::string version = "") {
  return {"", std::move(release_id), std::move(author), std::move(name), std::move(version), true};
}

TEST(UpdateDeciderTest, FreshInstallOfNewestPublished) {
  auto d = DecideUpdates({}, {Release("r1", "player", "1.0.0"), Release("r2", "player", "1.1.0"),
                              Release("r3", "player", "2.0.0", {}, /*published=*/false)});
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].kind, OfferKind::kFreshInstall);
  EXPECT_EQ(d.offers[0].release_id, "r2");
  EXPECT_EQ(d.offers[0].package_id, "pkg_player");
  EXPECT_EQ(d.offers[0].installed_version, "");
  EXPECT_TRUE(d.unknown.empty());
}

TEST(UpdateDeciderTest, OverwriteOlderInstalled) {
  auto d = DecideUpdates({Installed("r1")},
                         {Release("r1", "player", "1.0.0"), Release("r2", "player", "1.10.0"),
                          Release("r3", "player", "1.9.0")});
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].kind, OfferKind::kOverwrite);
  EXPECT_EQ(d.offers[0].release_id, "r2");
  EXPECT_EQ(d.offers[0].installed_version, "1.0.0");
}

TEST(UpdateDeciderTest, SameVersionIsNothingNew) {
  auto d = DecideUpdates({Installed("r2")},
                         {Release("r1", "player", "1.0.0"), Release("r2", "player", "1.1.0")});
  EXPECT_TRUE(d.offers.empty());
  EXPECT_TRUE(d.unknown.empty());
}

TEST(UpdateDeciderTest, NeverDowngrades) {
  // The device runs an unpublished 2.0.0 (e.g. a beta side-loaded by its
  // owner); the newest published release is older.
  auto d = DecideUpdates({Installed("r3")}, {Release("r1", "player", "1.0.0"),
                                             Release("r3", "player", "2.0.0", {}, false)});
  EXPECT_TRUE(d.offers.empty());
  // Several components: the highest installed version counts.
  d = DecideUpdates({Installed("r1"), Installed("r2")},
                    {Release("r1", "player", "1.0.0"), Release("r2", "player", "1.5.0"),
                     Release("r0", "player", "0.9.0")});
  EXPECT_TRUE(d.offers.empty());
}

TEST(UpdateDeciderTest, OfflineComponentMatchedByTriple) {
  std::vector<CatalogRelease> releases = {
      Release("r1", "player", "1.0.0",
              {{"dc-a", "Acme", "player", "10"}, {"dc-b", "Acme", "codec", "3"}}),
      Release("r2", "player", "1.1.0",
              {{"dc-a", "Acme", "player", "11"}, {"dc-b", "Acme", "codec", "3"}}),
      Release("r3", "player", "1.2.0",
              {{"dc-a", "Acme", "player", "12"}, {"dc-b", "Acme", "codec", "4"}}),
  };
  auto d = DecideUpdates({Installed("", "Acme", "player", "10")}, releases);
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].kind, OfferKind::kOverwrite);
  EXPECT_EQ(d.offers[0].installed_version, "1.0.0");
  EXPECT_EQ(d.offers[0].release_id, "r3");

  // codec 3 is in 1.0.0 and 1.1.0: it proves only 1.0.0.
  d = DecideUpdates({Installed("", "Acme", "codec", "3")}, releases);
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].installed_version, "1.0.0");

  d = DecideUpdates({Installed("", "Acme", "codec", "4"), Installed("", "Acme", "player", "12")},
                    releases);
  EXPECT_TRUE(d.offers.empty());

  // A component naming an unknown release falls back to its triple.
  d = DecideUpdates({Installed("rel_gone", "Acme", "player", "12")}, releases);
  EXPECT_TRUE(d.offers.empty());
  EXPECT_TRUE(d.unknown.empty());
}

TEST(UpdateDeciderTest, UnknownComponentsAreReportedNotOffered) {
  DeviceComponent stranger = Installed("", "Other", "game", "1");
  DeviceComponent gone = Installed("rel_gone");
  auto d = DecideUpdates({stranger, gone, Installed("", "Acme", "player", "99")},
                         {Release("r1", "player", "1.0.0", {{"dc-a", "Acme", "player", "10"}})});
  ASSERT_EQ(d.unknown.size(), 3u);
  EXPECT_EQ(d.unknown[0].name, "game");
  EXPECT_EQ(d.unknown[1].release_id, "rel_gone");
  EXPECT_EQ(d.unknown[2].version, "99");
  ASSERT_EQ(d.offers.size(), 1u);  // the player at version 99 is not the catalog's
  EXPECT_EQ(d.offers[0].kind, OfferKind::kFreshInstall);
}

TEST(UpdateDeciderTest, DeliveredDoesNotCountAsInstalled) {
  DeviceComponent delivered = Installed("r2");
  delivered.deployed = false;
  auto d = DecideUpdates({Installed("r1"), delivered},
                         {Release("r1", "player", "1.0.0"), Release("r2", "player", "1.1.0")});
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].kind, OfferKind::kOverwrite);
  EXPECT_EQ(d.offers[0].installed_version, "1.0.0");
  EXPECT_TRUE(d.unknown.empty());
}

TEST(UpdateDeciderTest, PreReleaseOrdering) {
  std::vector<CatalogRelease> releases = {
      Release("a", "player", "1.0.0-alpha"), Release("b2", "player", "1.0.0-beta.2"),
      Release("b11", "player", "1.0.0-beta.11"), Release("rc", "player", "1.0.0-rc.1")};
  auto d = DecideUpdates({}, releases);
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].release_id, "rc");
  d = DecideUpdates({Installed("b11")}, releases);
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].release_id, "rc");
  EXPECT_EQ(d.offers[0].installed_version, "1.0.0-beta.11");
  releases.push_back(Release("final", "player", "1.0.0"));
  d = DecideUpdates({Installed("rc")}, releases);
  ASSERT_EQ(d.offers.size(), 1u);
  EXPECT_EQ(d.offers[0].release_id, "final");
  // beta.11 > beta.2 numerically: installed beta.11 is not offered beta.2.
  d = DecideUpdates({Installed("b11")}, {releases[0], releases[1], releases[2]});
  EXPECT_TRUE(d.offers.empty());
}

TEST(UpdateDeciderTest, SeveralPackagesOrderedByName) {
  auto d =
      DecideUpdates({Installed("z1"), Installed("m2")},
                    {Release("z1", "zebra", "1.0.0"), Release("z2", "zebra", "1.0.1"),
                     Release("a1", "alpha", "0.1.0"), Release("m2", "mango", "3.0.0"),
                     Release("m1", "mango", "2.0.0"), Release("bad", "broken", "not-a-version")});
  ASSERT_EQ(d.offers.size(), 2u);
  EXPECT_EQ(d.offers[0].package_name, "alpha");
  EXPECT_EQ(d.offers[0].kind, OfferKind::kFreshInstall);
  EXPECT_EQ(d.offers[1].package_name, "zebra");
  EXPECT_EQ(d.offers[1].kind, OfferKind::kOverwrite);
  EXPECT_EQ(d.offers[1].release_id, "z2");
  // Input order does not change the answer.
  auto again = DecideUpdates({Installed("m2"), Installed("z1")},
                             {Release("m1", "mango", "2.0.0"), Release("a1", "alpha", "0.1.0"),
                              Release("m2", "mango", "3.0.0"), Release("z2", "zebra", "1.0.1"),
                              Release("z1", "zebra", "1.0.0")});
  ASSERT_EQ(again.offers.size(), 2u);
  EXPECT_EQ(again.offers[0].release_id, "a1");
  EXPECT_EQ(again.offers[1].release_id, "z2");
}

}  // namespace
}  // namespace updraft::catalog
