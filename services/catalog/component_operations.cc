#include "services/catalog/component_operations.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/semver.h"
#include "common/status_util.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;

bool HoldsDc(const v1::Release& release, const std::string& dc_id) {
  for (const v1::DcEntry& e : release.dcinfo().entries()) {
    if (e.dc_id() == dc_id) return true;
  }
  return false;
}

absl::Status ValidateKind(v1::ComponentOperation::Kind kind) {
  switch (kind) {
    case v1::ComponentOperation::UPDATE:
    case v1::ComponentOperation::ACTIVATE:
    case v1::ComponentOperation::DEACTIVATE:
    case v1::ComponentOperation::REMOVE:
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("kind ", static_cast<int>(kind),
                       " is not an operation; use UPDATE, ACTIVATE, DEACTIVATE or REMOVE"));
  }
}

}  // namespace

absl::StatusOr<v1::Release> ResolveOperationRelease(const ReleaseSnapshot& snapshot,
                                                    v1::ComponentOperation::Kind kind,
                                                    const std::string& dc_id,
                                                    const std::string& release_id) {
  const bool update = kind == v1::ComponentOperation::UPDATE;
  if (!release_id.empty()) {
    auto it = snapshot.releases.find(release_id);
    if (it == snapshot.releases.end()) {
      return absl::NotFoundError(
          absl::StrCat("release ", release_id, " not found or never published"));
    }
    if (!HoldsDc(it->second, dc_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("release ", release_id, " holds no DC ", dc_id));
    }
    if (update && it->second.state() != v1::PUBLISHED) {
      return absl::FailedPreconditionError(
          absl::StrCat("release ", release_id, " is withdrawn; UPDATE needs a published release"));
    }
    return it->second;
  }
  const v1::Release* best = nullptr;
  std::optional<SemVer> best_version;
  for (const auto& [id, r] : snapshot.releases) {
    if (!HoldsDc(r, dc_id) || (update && r.state() != v1::PUBLISHED)) continue;
    absl::StatusOr<SemVer> v = SemVer::Parse(r.version());
    if (!v.ok()) continue;
    if (best == nullptr || *v > *best_version ||
        (!(*best_version > *v) && r.release_id() > best->release_id())) {
      best = &r;
      best_version = *v;
    }
  }
  if (best == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no ", update ? "published" : "public", " release holds DC ", dc_id));
  }
  return *best;
}

absl::StatusOr<std::unique_ptr<ComponentOperations>> ComponentOperations::Create(Options options) {
  if (options.operations == nullptr || options.groups == nullptr || options.releases == nullptr ||
      options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "ComponentOperations needs an operation store, a group store, a release cache and a "
        "clock");
  }
  return std::unique_ptr<ComponentOperations>(new ComponentOperations(std::move(options)));
}

absl::StatusOr<std::vector<std::string>> ComponentOperations::Targets(
    const v1::QueueOperationRequest& request) {
  if (!request.device_id().empty()) return std::vector<std::string>{request.device_id()};
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> members,
                           ListAllMembers(*options_.groups, request.group(), kMaxGroupTargets));
  if (members.size() > static_cast<size_t>(kMaxGroupTargets)) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", request.group(), " has more than ", kMaxGroupTargets,
                     " members; queue the operation for smaller groups"));
  }
  if (members.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", request.group(), " has no members"));
  }
  return members;
}

absl::StatusOr<v1::QueueOperationResponse> ComponentOperations::Queue(
    const v1::QueueOperationRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateKind(request.kind()));
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("dc_id", request.dc_id(), kMaxIdLength));
  if (request.device_id().empty() == request.group().empty()) {
    return absl::InvalidArgumentError("give exactly one of device_id and group");
  }
  if (!request.device_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateDeviceIdSyntax("device_id", request.device_id()));
  } else {
    UPDRAFT_RETURN_IF_ERROR(ValidateGroupName("group", request.group()));
  }
  if (!request.release_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", request.release_id(), kMaxIdLength));
  }
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release,
                           ResolveOperationRelease(*options_.releases->Current(), request.kind(),
                                                   request.dc_id(), request.release_id()));
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> targets, Targets(request));
  const int64_t now = absl::ToUnixSeconds(options_.clock->Now());
  std::vector<v1::ComponentOperation> ops;
  ops.reserve(targets.size());
  for (const std::string& device : targets) {
    v1::ComponentOperation op;
    op.set_operation_id(absl::StrCat("op_", absl::BytesToHexString(RandomBytes(8))));
    op.set_device_id(device);
    op.set_kind(request.kind());
    op.set_dc_id(request.dc_id());
    op.set_release_id(release.release_id());
    op.set_group(request.group());
    op.set_state(v1::ComponentOperation::QUEUED);
    op.set_queued_at_unix(now);
    ops.push_back(std::move(op));
  }
  UPDRAFT_RETURN_IF_ERROR(options_.operations->Queue(ops));
  if (options_.index != nullptr) {
    for (const v1::ComponentOperation& op : ops) options_.index->Mark(op.device_id());
  }
  Announce(release, ops);
  v1::QueueOperationResponse response;
  for (v1::ComponentOperation& op : ops) *response.add_operations() = std::move(op);
  return response;
}

void ComponentOperations::Announce(const v1::Release& release,
                                   const std::vector<v1::ComponentOperation>& ops) {
  if (options_.announcer == nullptr) return;
  v1::AnnounceRequest request;
  request.set_software_name(release.package_name());
  request.set_location(release.release_id());
  for (const v1::ComponentOperation& op : ops) request.add_targets()->set_device_id(op.device_id());
  absl::StatusOr<v1::AnnounceResponse> announced = options_.announcer->Announce(request);
  if (!announced.ok() && options_.logger != nullptr) {
    options_.logger->Warning(
        "announcing queued component operations failed; devices get them"
        " with their next update check",
        {{"release_id", release.release_id()},
         {"devices", absl::StrCat(ops.size())},
         {"error", std::string(announced.status().message())}});
  }
}

absl::StatusOr<v1::ListOperationsResponse> ComponentOperations::List(
    const v1::ListOperationsRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceIdSyntax("device_id", request.device_id()));
  if (request.limit() < 0 || request.limit() > kMaxListLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be 0 (default ", kDefaultListLimit, ") to ", kMaxListLimit));
  }
  const int limit = request.limit() == 0 ? kDefaultListLimit : request.limit();
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<v1::ComponentOperation> ops,
                           options_.operations->List(request.device_id(), limit));
  v1::ListOperationsResponse response;
  for (v1::ComponentOperation& op : ops) *response.add_operations() = std::move(op);
  return response;
}

absl::StatusOr<std::vector<v1::ComponentOperation>> ComponentOperations::TakePending(
    const std::string& device_id) {
  PendingOperationIndex* index = options_.index;
  const uint64_t mark = index != nullptr ? index->MarkOf(device_id) : 0;
  if (index != nullptr && mark == 0) return std::vector<v1::ComponentOperation>();
  absl::StatusOr<std::vector<v1::ComponentOperation>> pending =
      options_.operations->TakePending(device_id, options_.clock->Now());
  if (index != nullptr && pending.ok() && pending->empty()) {
    index->ClearIfUnchanged(device_id, mark);
  }
  return pending;
}

}  // namespace updraft::catalog
