// CatalogService: device groups, per-component operations, per-group
// settings and the SCOMO tree (the declarations are in catalog_service.h).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/group_settings.h"
#include "services/catalog/scomo_tree.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr int kMaxMembersPerCall = 1000;
constexpr int kDefaultMemberPage = 100;

absl::StatusOr<std::vector<std::string>> ValidMembers(const v1::GroupMembersRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateGroupName("group", request.group()));
  if (request.device_ids().empty() || request.device_ids_size() > kMaxMembersPerCall) {
    return absl::InvalidArgumentError(absl::StrCat("device_ids has ", request.device_ids_size(),
                                                   " entries; 1 to ", kMaxMembersPerCall,
                                                   " are allowed"));
  }
  for (int i = 0; i < request.device_ids_size(); ++i) {
    UPDRAFT_RETURN_IF_ERROR(
        ValidateDeviceIdSyntax(absl::StrCat("device_ids[", i, "]"), request.device_ids(i)));
  }
  std::vector<std::string> ids(request.device_ids().begin(), request.device_ids().end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

absl::Status CatalogService::OperationsConfigured() const {
  if (operations_ == nullptr) {
    return absl::FailedPreconditionError(
        "this catalog has no group and operation stores configured");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GroupMembersResponse> CatalogService::AddGroupMembers(
    const v1::GroupMembersRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(OperationsConfigured());
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> ids, ValidMembers(request));
  UPDRAFT_ASSIGN_OR_RETURN(
      int added, options_.groups->AddMembers(request.group(), ids, options_.clock->Now()));
  v1::GroupMembersResponse response;
  response.set_changed(added);
  return response;
}

absl::StatusOr<v1::GroupMembersResponse> CatalogService::RemoveGroupMembers(
    const v1::GroupMembersRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(OperationsConfigured());
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> ids, ValidMembers(request));
  UPDRAFT_ASSIGN_OR_RETURN(int removed, options_.groups->RemoveMembers(request.group(), ids));
  v1::GroupMembersResponse response;
  response.set_changed(removed);
  return response;
}

absl::StatusOr<v1::ListGroupMembersResponse> CatalogService::ListGroupMembers(
    const v1::ListGroupMembersRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(OperationsConfigured());
  UPDRAFT_RETURN_IF_ERROR(ValidateGroupName("group", request.group()));
  if (!request.after_device_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateDeviceIdSyntax("after_device_id", request.after_device_id()));
  }
  if (request.limit() < 0 || request.limit() > kMaxMembersPerCall) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be 0 (default ", kDefaultMemberPage, ") to ", kMaxMembersPerCall));
  }
  const int limit = request.limit() == 0 ? kDefaultMemberPage : request.limit();
  UPDRAFT_ASSIGN_OR_RETURN(
      std::vector<std::string> members,
      options_.groups->ListMembers(request.group(), request.after_device_id(), limit));
  v1::ListGroupMembersResponse response;
  for (const std::string& id : members) response.add_device_ids(id);
  if (static_cast<int>(members.size()) == limit) response.set_next_after_device_id(members.back());
  return response;
}

absl::StatusOr<v1::QueueOperationResponse> CatalogService::QueueOperation(
    const v1::QueueOperationRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(OperationsConfigured());
  return operations_->Queue(request);
}

absl::StatusOr<v1::ListOperationsResponse> CatalogService::ListOperations(
    const v1::ListOperationsRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(OperationsConfigured());
  return operations_->List(request);
}

void CatalogService::FillOfferSources(v1::Offer* offer) const {
  offer->set_download_target(options_.public_download_target);
  if (!options_.public_http_base.empty()) {
    offer->add_http_urls(
        absl::StrCat(options_.public_http_base, "/objects/", offer->release().artifact().sha256()));
  }
}

absl::Status CatalogService::PersonalizeCheck(const std::string& device_id,
                                              const v1::CheckForUpdatesRequest& request,
                                              const ReleaseSnapshot& snapshot,
                                              v1::CheckForUpdatesResponse* response) {
  if (operations_ != nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<v1::ComponentOperation> pending,
                             operations_->TakePending(device_id));
    for (const v1::ComponentOperation& op : pending) {
      v1::PendingOperation* p = response->add_operations();
      p->set_operation_id(op.operation_id());
      p->set_kind(op.kind());
      p->set_dc_id(op.dc_id());
      p->set_release_id(op.release_id());
      if (op.kind() != v1::ComponentOperation::UPDATE) continue;
      auto release = snapshot.releases.find(op.release_id());
      if (release == snapshot.releases.end()) continue;  // The device reports the failure.
      v1::Offer* offer = p->mutable_offer();
      *offer->mutable_release() = release->second;
      offer->set_kind(v1::FRESH_INSTALL);
      for (const v1::InventoryComponent& c : request.inventory()) {
        auto installed = snapshot.releases.find(c.release_id());
        if (c.location() != v1::DEPLOYED || installed == snapshot.releases.end() ||
            installed->second.package_id() != release->second.package_id()) {
          continue;
        }
        offer->set_kind(v1::OVERWRITE);
        offer->set_installed_version(installed->second.version());
      }
      FillOfferSources(offer);
      // The operation's offer replaces an ordinary one of the same package.
      auto* offers = response->mutable_offers();
      offers->erase(std::remove_if(offers->begin(), offers->end(),
                                   [&](const v1::Offer& o) {
                                     return o.release().package_id() ==
                                            release->second.package_id();
                                   }),
                    offers->end());
    }
  }
  std::optional<std::vector<std::string>> groups;
  auto personalize = [&](v1::Offer* offer) -> absl::Status {
    if (offer->release().group_settings().empty()) return absl::OkStatus();
    if (!groups.has_value()) {
      groups.emplace();
      if (options_.groups != nullptr) {
        UPDRAFT_ASSIGN_OR_RETURN(*groups, options_.groups->GroupsOf(device_id));
      }
    }
    for (std::string& g : ApplyGroupSettings(offer->mutable_release(), *groups)) {
      offer->add_settings_groups(std::move(g));
    }
    return absl::OkStatus();
  };
  for (v1::Offer& offer : *response->mutable_offers()) UPDRAFT_RETURN_IF_ERROR(personalize(&offer));
  for (v1::PendingOperation& op : *response->mutable_operations()) {
    if (op.has_offer()) UPDRAFT_RETURN_IF_ERROR(personalize(op.mutable_offer()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ScomoTree> CatalogService::GetScomoTree(const v1::GetScomoTreeRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceIdSyntax("device_id", request.device_id()));
  UPDRAFT_ASSIGN_OR_RETURN(v1::DeviceState state,
                           options_.store->GetDeviceState(request.device_id(), 1));
  std::shared_ptr<const ReleaseSnapshot> snapshot = options_.releases->Current();
  ScomoTreeInput input;
  input.device_id = request.device_id();
  auto pkg_url = [&](const v1::Release& r) {
    return options_.public_http_base.empty()
               ? absl::StrCat(options_.public_download_target, "/objects/", r.artifact().sha256())
               : absl::StrCat(options_.public_http_base, "/objects/", r.artifact().sha256());
  };
  auto add_download = [&](const v1::Release& r, const std::string& status) {
    for (const ScomoDownload& d : input.downloads) {
      if (d.release.release_id() == r.release_id()) return;
    }
    input.downloads.push_back({r, pkg_url(r), status});
  };
  if (operations_ != nullptr) {
    v1::ListOperationsRequest list;
    list.set_device_id(request.device_id());
    list.set_limit(1000);
    UPDRAFT_ASSIGN_OR_RETURN(v1::ListOperationsResponse ops, operations_->List(list));
    for (const v1::ComponentOperation& op : ops.operations()) {
      const bool pending = op.state() == v1::ComponentOperation::QUEUED ||
                           op.state() == v1::ComponentOperation::DELIVERED;
      auto it = snapshot->releases.find(op.release_id());
      if (!pending || op.kind() != v1::ComponentOperation::UPDATE ||
          it == snapshot->releases.end()) {
        continue;
      }
      add_download(it->second, op.state() == v1::ComponentOperation::QUEUED ? "Idle" : "Delivered");
    }
  }
  std::vector<DeviceComponent> inventory;
  for (const v1::InventoryComponent& c : state.deployed()) {
    inventory.push_back({c.dc_id(), c.release_id(), c.author(), c.name(), c.version(),
                         c.location() != v1::DELIVERED});
    input.components.push_back(c);
    auto it = snapshot->releases.find(c.release_id());
    if (it != snapshot->releases.end()) input.releases.push_back(it->second);
  }
  for (const UpdateOffer& o : snapshot->index.Decide(inventory, {}).offers) {
    add_download(snapshot->releases.at(o.release_id), "Idle");
  }
  return RenderScomoTree(input);
}

}  // namespace updraft::catalog
