#include "services/catalog/grpc_catalog_service.h"

#include <chrono>

#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"

namespace updraft::catalog {

grpc::Status GrpcCatalogAdmin::CreatePackage(grpc::ServerContext* context,
                                             const v1::CreatePackageRequest* request,
                                             v1::Package* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "CreatePackage");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->CreatePackage(*request), response);
}

grpc::Status GrpcCatalogAdmin::CreateRelease(grpc::ServerContext* context,
                                             const v1::CreateReleaseRequest* request,
                                             v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "CreateRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->CreateRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::PublishRelease(grpc::ServerContext* context,
                                              const v1::PublishReleaseRequest* request,
                                              v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "PublishRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->PublishRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::WithdrawRelease(grpc::ServerContext* context,
                                               const v1::WithdrawReleaseRequest* request,
                                               v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "WithdrawRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->WithdrawRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::GetRelease(grpc::ServerContext* context,
                                          const v1::GetReleaseRequest* request,
                                          v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->GetRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::GetDeviceState(grpc::ServerContext* context,
                                              const v1::GetDeviceStateRequest* request,
                                              v1::DeviceState* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetDeviceState");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->GetDeviceState(*request), response);
}

grpc::Status GrpcCatalogAdmin::AddGroupMembers(grpc::ServerContext* context,
                                               const v1::GroupMembersRequest* request,
                                               v1::GroupMembersResponse* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "AddGroupMembers");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->AddGroupMembers(*request), response);
}

grpc::Status GrpcCatalogAdmin::RemoveGroupMembers(grpc::ServerContext* context,
                                                  const v1::GroupMembersRequest* request,
                                                  v1::GroupMembersResponse* response) {
  auto who =
      AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "RemoveGroupMembers");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->RemoveGroupMembers(*request), response);
}

grpc::Status GrpcCatalogAdmin::ListGroupMembers(grpc::ServerContext* context,
                                                const v1::ListGroupMembersRequest* request,
                                                v1::ListGroupMembersResponse* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "ListGroupMembers");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->ListGroupMembers(*request), response);
}

grpc::Status GrpcCatalogAdmin::QueueOperation(grpc::ServerContext* context,
                                              const v1::QueueOperationRequest* request,
                                              v1::QueueOperationResponse* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "QueueOperation");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->QueueOperation(*request), response);
}

grpc::Status GrpcCatalogAdmin::ListOperations(grpc::ServerContext* context,
                                              const v1::ListOperationsRequest* request,
                                              v1::ListOperationsResponse* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "ListOperations");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->ListOperations(*request), response);
}

grpc::Status GrpcCatalogAdmin::GetScomoTree(grpc::ServerContext* context,
                                            const v1::GetScomoTreeRequest* request,
                                            v1::ScomoTree* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetScomoTree");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ReplyWith(service_->GetScomoTree(*request), response);
}

GrpcDeviceCatalog::GrpcDeviceCatalog(CatalogService* service, TokenVerifier* verifier,
                                     Metrics* metrics)
    : service_(service), verifier_(verifier), metrics_(metrics) {
  SetMessageAllocatorFor_CheckForUpdates(&arenas_);
  if (metrics == nullptr) return;
  auto& checks = prometheus::BuildCounter()
                     .Name("updraft_catalog_update_checks_total")
                     .Help("Successful update checks, by whether anything was offered.")
                     .Register(metrics->registry());
  checks_with_offers_ = &checks.Add({{"result", "offers"}});
  checks_nothing_new_ = &checks.Add({{"result", "nothing_new"}});
  reports_ = &prometheus::BuildCounter()
                  .Name("updraft_catalog_reports_total")
                  .Help("New device result reports, by SCOMO result code.")
                  .Register(metrics->registry());
}

grpc::ServerUnaryReactor* GrpcDeviceCatalog::CheckForUpdates(
    grpc::CallbackServerContext* context, const v1::CheckForUpdatesRequest* request,
    v1::CheckForUpdatesResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::Status s;
  absl::StatusOr<std::string> device_id = AuthenticateDevice(*context, *verifier_);
  if (!device_id.ok()) {
    s = ToGrpcStatus(device_id.status());
  } else {
    s = ReplyWith(service_->CheckForUpdates(*device_id, *request), response);
  }
  if (metrics_ != nullptr) {
    if (s.ok()) {
      (response->offers().empty() ? checks_nothing_new_ : checks_with_offers_)->Increment();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    metrics_->ObserveRpc(kCheckForUpdatesMethod, s.error_code(), elapsed.count());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

grpc::Status GrpcDeviceCatalog::ReportResult(grpc::ServerContext* context,
                                             const v1::ReportResultRequest* request,
                                             v1::ReportResultResponse* response) {
  absl::StatusOr<std::string> device_id = AuthenticateDevice(*context, *verifier_);
  if (!device_id.ok()) return ToGrpcStatus(device_id.status());
  grpc::Status s = ReplyWith(service_->ReportResult(*device_id, *request), response);
  if (s.ok() && !response->duplicate() && reports_ != nullptr) {
    reports_->Add({{"code", v1::ResultCode_Name(request->result())}}).Increment();
  }
  return s;
}

}  // namespace updraft::catalog
