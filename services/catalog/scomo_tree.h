#ifndef UPDRAFT_SERVICES_CATALOG_SCOMO_TREE_H_
#define UPDRAFT_SERVICES_CATALOG_SCOMO_TREE_H_

#include <string>
#include <vector>

#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

// One package the catalog offers a device or has queued for it: a SCOMO
// Download/<X> node.
struct ScomoDownload {
  v1::Release release;
  // PkgURL: where the device fetches the artifact.
  std::string pkg_url;
  // Status: "Idle" (offered, nothing sent yet) or "Delivered" (handed to
  // the device in a check answer, no report yet).
  std::string status;
};

// What the catalog knows about one device, as input to RenderScomoTree.
struct ScomoTreeInput {
  std::string device_id;
  std::vector<ScomoDownload> downloads;
  // The device's Inventory/Delivered and Inventory/Deployed components (by
  // their location).
  std::vector<v1::InventoryComponent> components;
  // Releases the components refer to (PkgIDRef), for the DCinfo of
  // Delivered nodes; may be incomplete.
  std::vector<v1::Release> releases;
};

// Renders a device's management tree as OMA DM leaves (design.md section 2),
// in this order:
//   ./SCOMO/Download/<X>/{PkgID, Name, PkgURL, PkgType, Description, DCinfo,
//     Status}                                  X = the release ID
//   ./SCOMO/Inventory/Delivered/<X>/{PkgID, Name, Version, Author, DCinfo}
//                                              X = the release ID
//   ./SCOMO/Inventory/Deployed/<X>/{ID, PkgIDRef, Name, Version, Author,
//     State}                                   X = the DC ID
// A component installed offline (no DC ID) is named "offline-" + the first
// 12 hex digits of SHA-256(author NUL name). PkgType is
// "application/x-tar". DCinfo is rendered as entries joined by ";", each
// "dc_id:file,file" (variant A) or "dc_id=author/name/version" (variant B).
// State is "Active" or "Inactive" (unset reads as Active). Node names and
// values are escaped: '/' in a node name becomes "%2F". Pure function.
v1::ScomoTree RenderScomoTree(const ScomoTreeInput& input);

// The DCinfo leaf value (see RenderScomoTree).
std::string RenderDcInfo(const v1::DcInfo& dcinfo);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_SCOMO_TREE_H_
