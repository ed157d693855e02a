#ifndef UPDRAFT_SERVICES_CATALOG_GRPC_CATALOG_SERVICE_H_
#define UPDRAFT_SERVICES_CATALOG_GRPC_CATALOG_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "common/arena_messages.h"
#include "common/metrics.h"
#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_service.h"
#include "updraft/v1/catalog.grpc.pb.h"

namespace updraft::catalog {

// gRPC adapter of the operator-facing catalog API. Every RPC needs an
// operator token (common/operator_auth.h): publisher for CreatePackage,
// CreateRelease, PublishRelease, WithdrawRelease, AddGroupMembers,
// RemoveGroupMembers and QueueOperation; viewer for GetRelease,
// GetDeviceState, ListGroupMembers, ListOperations and GetScomoTree.
class GrpcCatalogAdmin final : public v1::CatalogAdmin::Service {
 public:
  // Both must outlive the adapter; `operator_verifier` has audience
  // kOperatorAudience.
  GrpcCatalogAdmin(CatalogService* service, TokenVerifier* operator_verifier)
      : service_(service), operator_verifier_(operator_verifier) {}

  grpc::Status CreatePackage(grpc::ServerContext* context, const v1::CreatePackageRequest* request,
                             v1::Package* response) override;
  grpc::Status CreateRelease(grpc::ServerContext* context, const v1::CreateReleaseRequest* request,
                             v1::Release* response) override;
  grpc::Status PublishRelease(grpc::ServerContext* context,
                              const v1::PublishReleaseRequest* request,
                              v1::Release* response) override;
  grpc::Status WithdrawRelease(grpc::ServerContext* context,
                               const v1::WithdrawReleaseRequest* request,
                               v1::Release* response) override;
  grpc::Status GetRelease(grpc::ServerContext* context, const v1::GetReleaseRequest* request,
                          v1::Release* response) override;
  grpc::Status GetDeviceState(grpc::ServerContext* context,
                              const v1::GetDeviceStateRequest* request,
                              v1::DeviceState* response) override;
  grpc::Status AddGroupMembers(grpc::ServerContext* context, const v1::GroupMembersRequest* request,
                               v1::GroupMembersResponse* response) override;
  grpc::Status RemoveGroupMembers(grpc::ServerContext* context,
                                  const v1::GroupMembersRequest* request,
                                  v1::GroupMembersResponse* response) override;
  grpc::Status ListGroupMembers(grpc::ServerContext* context,
                                const v1::ListGroupMembersRequest* request,
                                v1::ListGroupMembersResponse* response) override;
  grpc::Status QueueOperation(grpc::ServerContext* context,
                              const v1::QueueOperationRequest* request,
                              v1::QueueOperationResponse* response) override;
  grpc::Status ListOperations(grpc::ServerContext* context,
                              const v1::ListOperationsRequest* request,
                              v1::ListOperationsResponse* response) override;
  grpc::Status GetScomoTree(grpc::ServerContext* context, const v1::GetScomoTreeRequest* request,
                            v1::ScomoTree* response) override;

 private:
  CatalogService* service_;
  TokenVerifier* operator_verifier_;
};

// gRPC adapter of the device-facing catalog API. Every call needs a device
// access token ("authorization: Bearer <token>"); the device ID comes from
// it. Counts update checks and result reports when given a registry:
//   updraft_catalog_update_checks_total{result="offers"|"nothing_new"}
//   updraft_catalog_reports_total{code="SUCCESS"|...}  (new reports only)
// CheckForUpdates, the hot path, runs on gRPC's callback API with the
// request and response on a per-call protobuf arena (`ArenaMessages`): a
// 50-component inventory is parsed without a heap allocation per string.
class GrpcDeviceCatalog final
    : public v1::DeviceCatalog::WithCallbackMethod_CheckForUpdates<v1::DeviceCatalog::Service> {
 public:
  // Full name of the method that records its own RPC metrics (pass it in
  // GrpcServer::Options::methods_observing_themselves).
  static constexpr char kCheckForUpdatesMethod[] = "/updraft.v1.DeviceCatalog/CheckForUpdates";

  GrpcDeviceCatalog(CatalogService* service, TokenVerifier* verifier, Metrics* metrics = nullptr);

  grpc::ServerUnaryReactor* CheckForUpdates(grpc::CallbackServerContext* context,
                                            const v1::CheckForUpdatesRequest* request,
                                            v1::CheckForUpdatesResponse* response) override;
  grpc::Status ReportResult(grpc::ServerContext* context, const v1::ReportResultRequest* request,
                            v1::ReportResultResponse* response) override;

 private:
  CatalogService* service_;
  TokenVerifier* verifier_;
  Metrics* metrics_;
  ArenaMessages<v1::CheckForUpdatesRequest, v1::CheckForUpdatesResponse> arenas_;
  // Looked up once: Family::Add hashes its labels under a lock on every call.
  prometheus::Counter* checks_with_offers_ = nullptr;
  prometheus::Counter* checks_nothing_new_ = nullptr;
  prometheus::Family<prometheus::Counter>* reports_ = nullptr;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_GRPC_CATALOG_SERVICE_H_
