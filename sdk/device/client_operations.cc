// Client: per-component operations queued by the catalog (declared in
// client.h; the offer flow is in client.cc).
#include "absl/strings/str_cat.h"
#include "sdk/device/client.h"
#include "sdk/device/component_ops.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

const char* Verb(v1::ComponentOperation::Kind kind) {
  switch (kind) {
    case v1::ComponentOperation::ACTIVATE:
      return "activated";
    case v1::ComponentOperation::DEACTIVATE:
      return "deactivated";
    case v1::ComponentOperation::REMOVE:
      return "removed";
    default:
      return "updated";
  }
}

}  // namespace

UpdateOutcome Client::HandleOperation(const v1::PendingOperation& op, int index, int count) {
  // Without an ID an operation can be neither reported nor told apart from
  // the pending reports of ordinary updates (which have none).
  if (op.operation_id().empty()) return UpdateOutcome();
  const v1::DeviceLocalState snapshot = state_->Snapshot();
  UpdateOutcome out;
  out.operation_id = op.operation_id();
  out.operation_kind = op.kind();
  out.dc_id = op.dc_id();
  out.release.set_release_id(op.release_id());
  if (op.has_offer()) {
    out.release = op.offer().release();
    out.release.mutable_artifact()->clear_chunk_sha256();
  }
  // Executed before (a crash or a lost report): re-send, never re-run.
  for (const v1::LocalPendingReport& pending : snapshot.pending_reports()) {
    if (pending.request().operation_id() != op.operation_id()) continue;
    out.result = pending.request().result();
    out.message = pending.request().message();
    out.report_id = pending.request().report_id();
    return Finish(std::move(out), nullptr, index, count, pending);
  }
  if (OperationDone(snapshot, op.operation_id())) return UpdateOutcome();

  auto finish = [&](v1::ResultCode result, const std::string& message) {
    out.result = result;
    out.message = message;
    return Finish(std::move(out), nullptr, index, count);
  };
  switch (op.kind()) {
    case v1::ComponentOperation::UPDATE: {
      if (!op.has_offer()) {
        return finish(v1::UNDEFINED_ERROR,
                      absl::StrCat("the catalog sent UPDATE of ", op.dc_id(), " without an offer"));
      }
      for (const v1::LocalPackage& p : snapshot.packages()) {
        if (p.release_id() != op.offer().release().release_id()) continue;
        v1::LocalPendingReport report;
        absl::Status s = state_->Update([&](v1::DeviceLocalState& st) {
          out.result = v1::SUCCESS;
          out.message = absl::StrCat(p.package_name(), " ", p.version(), " is already installed");
          report = NewReport(out, st);
          *st.add_pending_reports() = report;
          MarkOperationDone(st, op.operation_id());
          return absl::OkStatus();
        });
        if (!s.ok()) return finish(v1::UNDEFINED_ERROR, std::string(s.message()));
        return Finish(std::move(out), nullptr, index, count, std::move(report));
      }
      return HandleOffer(op.offer(), index, count, op.operation_id(), op.dc_id());
    }
    case v1::ComponentOperation::ACTIVATE:
    case v1::ComponentOperation::DEACTIVATE:
    case v1::ComponentOperation::REMOVE:
      break;
    default:
      return finish(v1::NOT_IMPLEMENTED,
                    absl::StrCat("operation kind ", static_cast<int>(op.kind()),
                                 " is not supported by this device"));
  }

  bool last_of_package = false;
  absl::StatusOr<ComponentRef> ref =
      FindDeployedComponent(snapshot, op.dc_id(), op.kind(), &last_of_package);
  absl::Status done = ref.status();
  if (done.ok()) {
    switch (op.kind()) {
      case v1::ComponentOperation::ACTIVATE:
        done = options_.installer->Activate(*ref);
        break;
      case v1::ComponentOperation::DEACTIVATE:
        done = options_.installer->Deactivate(*ref);
        break;
      default:
        if (last_of_package && !ref->package_name.empty()) {
          done = options_.installer->Remove(ref->package_name);
          if (absl::IsNotFound(done)) done = absl::OkStatus();  // Removed before a crash.
        } else {
          done = options_.installer->RemoveComponent(*ref);
        }
    }
  }
  if (!done.ok()) {
    return finish(ResultCodeOf(done, FailureCodeOf(op.kind())), std::string(done.message()));
  }
  // The Deployed change and the report are persisted together.
  v1::LocalPendingReport report;
  absl::Status s = state_->Update([&](v1::DeviceLocalState& st) {
    ApplyComponentOperation(st, op.kind(), op.dc_id());
    MarkOperationDone(st, op.operation_id());
    out.result = v1::SUCCESS;
    out.message = absl::StrCat(Verb(op.kind()), " component ", op.dc_id(),
                               ref->package_name.empty() ? "" : " of ", ref->package_name);
    report = NewReport(out, st);
    *st.add_pending_reports() = report;
    return absl::OkStatus();
  });
  if (!s.ok()) {
    return finish(FailureCodeOf(op.kind()),
                  absl::StrCat("done but cannot record it: ", s.message()));
  }
  return Finish(std::move(out), nullptr, index, count, std::move(report));
}

}  // namespace updraft::device
