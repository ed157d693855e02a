#include "services/catalog/scomo_tree.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

std::vector<std::pair<std::string, std::string>> Leaves(const v1::ScomoTree& tree) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : tree.nodes()) out.emplace_back(n.path(), n.value());
  return out;
}

TEST(RenderScomoTree, RendersDownloadDeliveredAndDeployedNodesInOrder) {
  ScomoTreeInput in;
  in.device_id = "dev-1";
  v1::Release r;
  r.set_release_id("rel_2");
  r.set_package_name("player");
  r.set_description("Plays.");
  r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
  auto* e = r.mutable_dcinfo()->add_entries();
  e->set_dc_id("DC_1");
  e->add_files("app.bin");
  e->add_files("lib/a.so");
  in.downloads.push_back({r, "https://cdn/objects/abc", "Delivered"});
  v1::InventoryComponent delivered;
  delivered.set_release_id("rel_2");
  delivered.set_name("player");
  delivered.set_version("2.0.0");
  delivered.set_author("Acme");
  delivered.set_location(v1::DELIVERED);
  in.components.push_back(delivered);
  in.releases.push_back(r);
  v1::InventoryComponent deployed;
  deployed.set_dc_id("DC_1");
  deployed.set_release_id("rel_1");
  deployed.set_name("player");
  deployed.set_version("1.0.0");
  deployed.set_author("Acme");
  deployed.set_location(v1::DEPLOYED);
  deployed.set_state(v1::INACTIVE);
  in.components.push_back(deployed);

  v1::ScomoTree tree = RenderScomoTree(in);
  EXPECT_EQ(tree.device_id(), "dev-1");
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(
      Leaves(tree),
      ::testing::ElementsAre(P{"./SCOMO/Download/rel_2/PkgID", "rel_2"},
                             P{"./SCOMO/Download/rel_2/Name", "player"},
                             P{"./SCOMO/Download/rel_2/PkgURL", "https://cdn/objects/abc"},
                             P{"./SCOMO/Download/rel_2/PkgType", "application/x-tar"},
                             P{"./SCOMO/Download/rel_2/Description", "Plays."},
                             P{"./SCOMO/Download/rel_2/DCinfo", "DC_1:app.bin,lib/a.so"},
                             P{"./SCOMO/Download/rel_2/Status", "Delivered"},
                             P{"./SCOMO/Inventory/Delivered/rel_2/PkgID", "rel_2"},
                             P{"./SCOMO/Inventory/Delivered/rel_2/Name", "player"},
                             P{"./SCOMO/Inventory/Delivered/rel_2/Version", "2.0.0"},
                             P{"./SCOMO/Inventory/Delivered/rel_2/Author", "Acme"},
                             P{"./SCOMO/Inventory/Delivered/rel_2/DCinfo", "DC_1:app.bin,lib/a.so"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/ID", "DC_1"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/PkgIDRef", "rel_1"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/Name", "player"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/Version", "1.0.0"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/Author", "Acme"},
                             P{"./SCOMO/Inventory/Deployed/DC_1/State", "Inactive"}));
}

TEST(RenderScomoTree, OfflineComponentsGetAStableNameAndSlashesAreEscaped) {
  ScomoTreeInput in;
  v1::InventoryComponent c;
  c.set_name("side/loaded");
  c.set_version("1");
  c.set_author("Vendor");
  in.components.push_back(c);
  v1::ScomoTree a = RenderScomoTree(in);
  v1::ScomoTree b = RenderScomoTree(in);
  ASSERT_EQ(a.nodes_size(), 6);
  EXPECT_THAT(a.nodes(0).path(),
              ::testing::MatchesRegex("\\./SCOMO/Inventory/Deployed/offline-[0-9a-f]{12}/ID"));
  EXPECT_EQ(a.nodes(0).path(), b.nodes(0).path());
  EXPECT_EQ(a.nodes(0).value(), "");
  EXPECT_EQ(a.nodes(5).value(), "Active");

  v1::Release r;
  r.set_release_id("a/b");
  ScomoTreeInput d;
  d.downloads.push_back({r, "", "Idle"});
  EXPECT_EQ(RenderScomoTree(d).nodes(0).path(), "./SCOMO/Download/a%2Fb/PkgID");
}

TEST(RenderDcInfo, RendersBothVariants) {
  v1::DcInfo triples;
  triples.set_variant(v1::DcInfo::TRIPLES);
  auto* e = triples.add_entries();
  e->set_dc_id("dc-1");
  e->set_author("Acme");
  e->set_name("codec");
  e->set_version("2.0.0");
  e = triples.add_entries();
  e->set_dc_id("dc-2");
  e->set_author("Acme");
  e->set_name("ui");
  e->set_version("1.0.0");
  EXPECT_EQ(RenderDcInfo(triples), "dc-1=Acme/codec/2.0.0;dc-2=Acme/ui/1.0.0");
  EXPECT_EQ(RenderDcInfo(v1::DcInfo()), "");
}

}  // namespace
}  // namespace updraft::catalog
