#include "tools/updraftctl/component_commands.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_util.h"

namespace updraft::ctl {
namespace {

absl::Status Limit(const Args& args, int* limit) {
  *limit = 0;
  if (args.Get("limit").empty()) return absl::OkStatus();
  if (!absl::SimpleAtoi(args.Get("limit"), limit) || *limit < 1) {
    return absl::InvalidArgumentError("--limit must be a positive number");
  }
  return absl::OkStatus();
}

absl::Status ChangeMembers(const Args& args, Stubs& stubs, FILE* out, bool add) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"group", "device_id"}));
  v1::GroupMembersRequest req;
  req.set_group(args.Get("group"));
  for (const std::string& id : args.GetAll("device_id")) req.add_device_ids(id);
  v1::GroupMembersResponse resp;
  auto ctx = Context(stubs);
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(add ? stubs.catalog->AddGroupMembers(ctx.get(), req, &resp)
                         : stubs.catalog->RemoveGroupMembers(ctx.get(), req, &resp)));
  fprintf(out, "group %s: %d of %d devices %s\n", req.group().c_str(), resp.changed(),
          req.device_ids_size(), add ? "added" : "removed");
  return absl::OkStatus();
}

}  // namespace

absl::Status GroupAdd(const Args& args, Stubs& stubs, FILE* out) {
  return ChangeMembers(args, stubs, out, true);
}

absl::Status GroupRemove(const Args& args, Stubs& stubs, FILE* out) {
  return ChangeMembers(args, stubs, out, false);
}

absl::Status GroupList(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"group"}));
  v1::ListGroupMembersRequest req;
  req.set_group(args.Get("group"));
  req.set_after_device_id(args.Get("after"));
  int limit = 0;
  UPDRAFT_RETURN_IF_ERROR(Limit(args, &limit));
  req.set_limit(limit);
  v1::ListGroupMembersResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->ListGroupMembers(Context(stubs).get(), req, &resp)));
  fprintf(out, "group %s (%d devices on this page)\n", req.group().c_str(), resp.device_ids_size());
  for (const std::string& id : resp.device_ids()) fprintf(out, "  %s\n", id.c_str());
  if (!resp.next_after_device_id().empty()) {
    fprintf(out, "more: --after=%s\n", resp.next_after_device_id().c_str());
  }
  return absl::OkStatus();
}

absl::Status QueueOperation(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"kind", "dc_id"}));
  v1::ComponentOperation::Kind kind;
  if (!v1::ComponentOperation::Kind_Parse(absl::AsciiStrToUpper(args.Get("kind")), &kind) ||
      kind == v1::ComponentOperation::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("--kind must be update, activate, deactivate or remove");
  }
  if (args.Get("device_id").empty() == args.Get("group").empty()) {
    return absl::InvalidArgumentError("--device_id or --group is required (exactly one)");
  }
  v1::QueueOperationRequest req;
  req.set_kind(kind);
  req.set_dc_id(args.Get("dc_id"));
  req.set_device_id(args.Get("device_id"));
  req.set_group(args.Get("group"));
  req.set_release_id(args.Get("release_id"));
  v1::QueueOperationResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->QueueOperation(Context(stubs).get(), req, &resp)));
  fprintf(out, "%-22s %-24s %-10s %-14s %s\n", "OPERATION", "DEVICE", "KIND", "DC", "RELEASE");
  for (const v1::ComponentOperation& op : resp.operations()) {
    fprintf(out, "%-22s %-24s %-10s %-14s %s\n", op.operation_id().c_str(), op.device_id().c_str(),
            v1::ComponentOperation::Kind_Name(op.kind()).c_str(), op.dc_id().c_str(),
            op.release_id().c_str());
  }
  fprintf(out, "%d operation(s) queued\n", resp.operations_size());
  return absl::OkStatus();
}

absl::Status Operations(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id"}));
  v1::ListOperationsRequest req;
  req.set_device_id(args.Get("device_id"));
  int limit = 0;
  UPDRAFT_RETURN_IF_ERROR(Limit(args, &limit));
  req.set_limit(limit);
  v1::ListOperationsResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->ListOperations(Context(stubs).get(), req, &resp)));
  fprintf(out, "device %s operations:\n", req.device_id().c_str());
  fprintf(out, "  %-19s %-22s %-10s %-14s %-9s %-10s %-6s %s\n", "QUEUED", "OPERATION", "KIND",
          "DC", "GROUP", "STATE", "RESULT", "MESSAGE");
  for (const v1::ComponentOperation& op : resp.operations()) {
    fprintf(out, "  %-19s %-22s %-10s %-14s %-9s %-10s %-6s %s\n",
            Time(op.queued_at_unix()).c_str(), op.operation_id().c_str(),
            v1::ComponentOperation::Kind_Name(op.kind()).c_str(), op.dc_id().c_str(),
            op.group().empty() ? "-" : op.group().c_str(),
            v1::ComponentOperation::State_Name(op.state()).c_str(),
            op.result() == v1::RESULT_CODE_UNSPECIFIED
                ? "-"
                : absl::StrCat(static_cast<int>(op.result())).c_str(),
            op.message().c_str());
  }
  return absl::OkStatus();
}

absl::Status ScomoTree(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id"}));
  v1::GetScomoTreeRequest req;
  req.set_device_id(args.Get("device_id"));
  v1::ScomoTree tree;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->GetScomoTree(Context(stubs).get(), req, &tree)));
  size_t width = 0;
  for (const v1::ScomoNode& n : tree.nodes()) width = std::max(width, n.path().size());
  for (const v1::ScomoNode& n : tree.nodes()) {
    fprintf(out, "%-*s  %s\n", static_cast<int>(width), n.path().c_str(), n.value().c_str());
  }
  if (tree.nodes().empty()) fprintf(out, "(no SCOMO nodes for %s)\n", tree.device_id().c_str());
  return absl::OkStatus();
}

absl::Status ParseGroupSetting(const std::string& value, v1::CreateReleaseRequest* release) {
  const size_t colon = value.find(':');
  const size_t eq = value.find('=', colon == std::string::npos ? 0 : colon);
  if (colon == std::string::npos || colon == 0 || eq == std::string::npos || eq == colon + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--group_setting \"", value, "\" must be GROUP:key=value"));
  }
  const std::string group = value.substr(0, colon);
  v1::GroupSettings* target = nullptr;
  for (v1::GroupSettings& g : *release->mutable_group_settings()) {
    if (g.group() == group) target = &g;
  }
  if (target == nullptr) {
    target = release->add_group_settings();
    target->set_group(group);
  }
  (*target->mutable_settings())[value.substr(colon + 1, eq - colon - 1)] = value.substr(eq + 1);
  return absl::OkStatus();
}

}  // namespace updraft::ctl
