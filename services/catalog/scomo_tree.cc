#include "services/catalog/scomo_tree.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/crypto.h"

namespace updraft::catalog {
namespace {

constexpr char kRoot[] = "./SCOMO";

std::string NodeName(const std::string& name) {
  return absl::StrReplaceAll(name, {{"%", "%25"}, {"/", "%2F"}});
}

class TreeWriter {
 public:
  explicit TreeWriter(v1::ScomoTree* tree) : tree_(tree) {}
  void Leaf(absl::string_view parent, absl::string_view leaf, absl::string_view value) {
    v1::ScomoNode* node = tree_->add_nodes();
    node->set_path(absl::StrCat(parent, "/", leaf));
    node->set_value(std::string(value));
  }

 private:
  v1::ScomoTree* tree_;
};

std::string DeployedName(const v1::InventoryComponent& c) {
  if (!c.dc_id().empty()) return c.dc_id();
  return absl::StrCat(
      "offline-",
      Sha256Hex(absl::StrCat(c.author(), absl::string_view("\0", 1), c.name())).substr(0, 12));
}

}  // namespace

std::string RenderDcInfo(const v1::DcInfo& dcinfo) {
  std::vector<std::string> entries;
  for (const v1::DcEntry& e : dcinfo.entries()) {
    if (dcinfo.variant() == v1::DcInfo::TRIPLES) {
      entries.push_back(absl::StrCat(e.dc_id(), "=", e.author(), "/", e.name(), "/", e.version()));
    } else {
      entries.push_back(absl::StrCat(e.dc_id(), ":", absl::StrJoin(e.files(), ",")));
    }
  }
  return absl::StrJoin(entries, ";");
}

v1::ScomoTree RenderScomoTree(const ScomoTreeInput& input) {
  v1::ScomoTree tree;
  tree.set_device_id(input.device_id);
  TreeWriter w(&tree);
  for (const ScomoDownload& d : input.downloads) {
    const v1::Release& r = d.release;
    const std::string node = absl::StrCat(kRoot, "/Download/", NodeName(r.release_id()));
    w.Leaf(node, "PkgID", r.release_id());
    w.Leaf(node, "Name", r.package_name());
    w.Leaf(node, "PkgURL", d.pkg_url);
    w.Leaf(node, "PkgType", "application/x-tar");
    w.Leaf(node, "Description", r.description());
    w.Leaf(node, "DCinfo", RenderDcInfo(r.dcinfo()));
    w.Leaf(node, "Status", d.status);
  }
  std::map<std::string, const v1::Release*> releases;
  for (const v1::Release& r : input.releases) releases[r.release_id()] = &r;
  std::vector<const v1::InventoryComponent*> delivered, deployed;
  for (const v1::InventoryComponent& c : input.components) {
    (c.location() == v1::DELIVERED ? delivered : deployed).push_back(&c);
  }
  for (const v1::InventoryComponent* c : delivered) {
    const std::string node =
        absl::StrCat(kRoot, "/Inventory/Delivered/", NodeName(c->release_id()));
    w.Leaf(node, "PkgID", c->release_id());
    w.Leaf(node, "Name", c->name());
    w.Leaf(node, "Version", c->version());
    w.Leaf(node, "Author", c->author());
    auto it = releases.find(c->release_id());
    w.Leaf(node, "DCinfo", it == releases.end() ? "" : RenderDcInfo(it->second->dcinfo()));
  }
  std::stable_sort(deployed.begin(), deployed.end(),
                   [](const v1::InventoryComponent* a, const v1::InventoryComponent* b) {
                     return DeployedName(*a) < DeployedName(*b);
                   });
  for (const v1::InventoryComponent* c : deployed) {
    const std::string node =
        absl::StrCat(kRoot, "/Inventory/Deployed/", NodeName(DeployedName(*c)));
    w.Leaf(node, "ID", c->dc_id());
    w.Leaf(node, "PkgIDRef", c->release_id());
    w.Leaf(node, "Name", c->name());
    w.Leaf(node, "Version", c->version());
    w.Leaf(node, "Author", c->author());
    w.Leaf(node, "State", c->state() == v1::INACTIVE ? "Inactive" : "Active");
  }
  return tree;
}

}  // namespace updraft::catalog
