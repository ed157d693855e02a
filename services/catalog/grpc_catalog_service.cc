#include "services/catalog/grpc_catalog_service.h"

#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/status_util.h"

namespace updraft::catalog {
namespace {

// Copies a result into the response, or converts its error.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status GrpcCatalogAdmin::CreatePackage(grpc::ServerContext* context,
                                             const v1::CreatePackageRequest* request,
                                             v1::Package* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "CreatePackage");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->CreatePackage(*request), response);
}

grpc::Status GrpcCatalogAdmin::CreateRelease(grpc::ServerContext* context,
                                             const v1::CreateReleaseRequest* request,
                                             v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "CreateRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->CreateRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::PublishRelease(grpc::ServerContext* context,
                                              const v1::PublishReleaseRequest* request,
                                              v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "PublishRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->PublishRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::WithdrawRelease(grpc::ServerContext* context,
                                               const v1::WithdrawReleaseRequest* request,
                                               v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kPublisher, "WithdrawRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->WithdrawRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::GetRelease(grpc::ServerContext* context,
                                          const v1::GetReleaseRequest* request,
                                          v1::Release* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetRelease");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->GetRelease(*request), response);
}

grpc::Status GrpcCatalogAdmin::GetDeviceState(grpc::ServerContext* context,
                                              const v1::GetDeviceStateRequest* request,
                                              v1::DeviceState* response) {
  auto who = AuthorizeOperator(*context, *operator_verifier_, Role::kViewer, "GetDeviceState");
  if (!who.ok()) return ToGrpcStatus(who.status());
  return Reply(service_->GetDeviceState(*request), response);
}

GrpcDeviceCatalog::GrpcDeviceCatalog(CatalogService* service, TokenVerifier* verifier,
                                     prometheus::Registry* registry)
    : service_(service), verifier_(verifier) {
  if (registry == nullptr) return;
  checks_ = &prometheus::BuildCounter()
                 .Name("updraft_catalog_update_checks_total")
                 .Help("Successful update checks, by whether anything was offered.")
                 .Register(*registry);
  reports_ = &prometheus::BuildCounter()
                  .Name("updraft_catalog_reports_total")
                  .Help("New device result reports, by SCOMO result code.")
                  .Register(*registry);
}

grpc::Status GrpcDeviceCatalog::CheckForUpdates(grpc::ServerContext* context,
                                                const v1::CheckForUpdatesRequest* request,
                                                v1::CheckForUpdatesResponse* response) {
  absl::StatusOr<std::string> device_id = AuthenticateDevice(*context, *verifier_);
  if (!device_id.ok()) return ToGrpcStatus(device_id.status());
  grpc::Status s = Reply(service_->CheckForUpdates(*device_id, *request), response);
  if (s.ok() && checks_ != nullptr) {
    checks_->Add({{"result", response->offers().empty() ? "nothing_new" : "offers"}}).Increment();
  }
  return s;
}

grpc::Status GrpcDeviceCatalog::ReportResult(grpc::ServerContext* context,
                                             const v1::ReportResultRequest* request,
                                             v1::ReportResultResponse* response) {
  absl::StatusOr<std::string> device_id = AuthenticateDevice(*context, *verifier_);
  if (!device_id.ok()) return ToGrpcStatus(device_id.status());
  grpc::Status s = Reply(service_->ReportResult(*device_id, *request), response);
  if (s.ok() && !response->duplicate() && reports_ != nullptr) {
    reports_->Add({{"code", v1::ResultCode_Name(request->result())}}).Increment();
  }
  return s;
}

}  // namespace updraft::catalog
