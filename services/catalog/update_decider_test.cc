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

// A view of string literals (DeviceComponent does not own its strings).
DeviceComponent Installed(absl::string_view release_id, absl::string_view author = "",
                          absl::string_view name = "", absl::string_view version = "") {
  return {"", release_id, author, name, version, true};
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

CompatibilityRules Rules(std::vector<std::string> models, std::string min_os, std::string max_os,
                         std::vector<std::string> carriers) {
  CompatibilityRules c;
  c.models = std::move(models);
  c.carriers = std::move(carriers);
  if (!min_os.empty()) c.min_os = *ParseOsVersion(min_os);
  if (!max_os.empty()) c.max_os = *ParseOsVersion(max_os);
  return c;
}

TEST(UpdateDeciderTest, ParseOsVersionPadsShortForms) {
  EXPECT_EQ(ParseOsVersion("13")->text(), "13.0.0");
  EXPECT_EQ(ParseOsVersion("13.1")->text(), "13.1.0");
  EXPECT_EQ(ParseOsVersion("13.1.2-beta")->text(), "13.1.2-beta");
  for (const char* bad : {"", "x", "13.", "1.2.3.4", "13-beta", "-1"}) {
    EXPECT_FALSE(ParseOsVersion(bad).ok()) << bad;
  }
}

TEST(UpdateDeciderTest, CompatibilityRulesMatchEveryGivenRule) {
  CompatibilityRules rules = Rules({"A1", "A2"}, "12", "14.2", {"acme"});
  auto os = [](const char* v) { return std::optional<SemVer>(*ParseOsVersion(v)); };
  EXPECT_TRUE(rules.Matches({"A1", "13", "acme"}, os("13")));
  EXPECT_TRUE(rules.Matches({"A2", "12", "acme"}, os("12")));      // inclusive min
  EXPECT_TRUE(rules.Matches({"A2", "14.2", "acme"}, os("14.2")));  // inclusive max
  EXPECT_FALSE(rules.Matches({"A3", "13", "acme"}, os("13")));
  EXPECT_FALSE(rules.Matches({"a1", "13", "acme"}, os("13")));  // exact
  EXPECT_FALSE(rules.Matches({"A1", "11.9", "acme"}, os("11.9")));
  EXPECT_FALSE(rules.Matches({"A1", "14.2.1", "acme"}, os("14.2.1")));
  EXPECT_FALSE(rules.Matches({"A1", "13", "other"}, os("13")));
  EXPECT_FALSE(rules.Matches({"A1", "", "acme"}, std::nullopt));  // unknown OS, range given
  EXPECT_TRUE(CompatibilityRules().Matches({"", "", ""}, std::nullopt));
  EXPECT_TRUE(Rules({"A1"}, "", "", {}).Matches({"A1", "junk", ""}, std::nullopt));
}

TEST(UpdateDeciderTest, NewestCompatibleReleaseIsChosen) {
  CatalogRelease v1 = Release("r1", "app", "1.0.0");
  CatalogRelease v2 = Release("r2", "app", "2.0.0");
  v2.compatibility = Rules({}, "13", "", {});
  CatalogRelease v3 = Release("r3", "app", "3.0.0");
  v3.compatibility = Rules({"A1"}, "14", "", {"acme"});
  std::vector<CatalogRelease> releases = {v1, v2, v3};

  auto offered = [&](DeviceProfile d, std::vector<DeviceComponent> inv = {}) {
    UpdateDecision decision = DecideUpdates(inv, releases, d);
    return decision.offers.empty() ? std::string() : decision.offers[0].release_id;
  };
  EXPECT_EQ(offered({"A1", "14.1", "acme"}), "r3");
  EXPECT_EQ(offered({"A1", "14.1", "other"}), "r2");
  EXPECT_EQ(offered({"B7", "13.0.1", "acme"}), "r2");
  EXPECT_EQ(offered({"B7", "12", "acme"}), "r1");
  EXPECT_EQ(offered({"B7", "", ""}), "r1");
  // Installed 2.0.0 on a device 2.0.0 no longer matches: nothing, never 1.0.0.
  EXPECT_EQ(offered({"B7", "12", ""}, {Installed("r2")}), "");
  EXPECT_EQ(offered({"A1", "14", "acme"}, {Installed("r2")}), "r3");
  // A device that matches no release of a package gets nothing for it.
  std::vector<CatalogRelease> only_v3 = {v3};
  EXPECT_TRUE(DecideUpdates({}, only_v3, {"B7", "14", "acme"}).offers.empty());
  // The index answers many devices the same way.
  ReleaseIndex index(releases);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Decide({}, {"A1", "14", "acme"}).offers.at(0).release_id, "r3");
  EXPECT_EQ(index.Decide({}, {"A1", "13", "acme"}).offers.at(0).release_id, "r2");
}

TEST(UpdateDeciderTest, WithdrawnReleaseStillIdentifiesInstalledButIsNotOffered) {
  std::vector<CatalogRelease> releases = {Release("r1", "app", "1.0.0"),
                                          Release("r2", "app", "2.0.0", {}, false)};
  EXPECT_EQ(DecideUpdates({}, releases).offers.at(0).release_id, "r1");
  UpdateDecision decision = DecideUpdates({Installed("r2")}, releases);
  EXPECT_TRUE(decision.offers.empty());  // no downgrade to 1.0.0
  EXPECT_TRUE(decision.unknown.empty());
}

}  // namespace
}  // namespace updraft::catalog
