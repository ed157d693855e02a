#ifndef UPDRAFT_SERVICES_AUTH_GRPC_AUTH_ADMIN_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_GRPC_AUTH_ADMIN_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "common/token.h"
#include "services/auth/admin_service.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

// The operator-facing gRPC API (updraft.v1.AuthAdmin) over an AdminService.
// Every RPC first checks the caller's operator token with
// AuthorizeOperator: viewer for GetDevice, ListDevices and
// ListAuditEntries, admin for everything else.
class GrpcAuthAdminService final : public v1::AuthAdmin::Service {
 public:
  // Both must outlive this adapter; `operator_verifier` has audience
  // kOperatorAudience.
  GrpcAuthAdminService(AdminService* service, TokenVerifier* operator_verifier)
      : service_(service), verifier_(operator_verifier) {}

  grpc::Status RegisterDevice(grpc::ServerContext* context,
                              const v1::RegisterDeviceRequest* request,
                              v1::Device* response) override;
  grpc::Status GetDevice(grpc::ServerContext* context, const v1::GetDeviceRequest* request,
                         v1::Device* response) override;
  grpc::Status ListDevices(grpc::ServerContext* context, const v1::ListDevicesRequest* request,
                           v1::ListDevicesResponse* response) override;
  grpc::Status ImportDevices(grpc::ServerContext* context, const v1::ImportDevicesRequest* request,
                             v1::ImportDevicesResponse* response) override;
  grpc::Status AcceptDevice(grpc::ServerContext* context, const v1::DeviceActionRequest* request,
                            v1::Device* response) override;
  grpc::Status RejectDevice(grpc::ServerContext* context, const v1::DeviceActionRequest* request,
                            v1::Device* response) override;
  grpc::Status RevokeDevice(grpc::ServerContext* context, const v1::DeviceActionRequest* request,
                            v1::Device* response) override;
  grpc::Status RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
                           v1::RevokeTokenResponse* response) override;
  grpc::Status CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* context, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response) override;
  grpc::Status RotateSigningKey(grpc::ServerContext* context,
                                const v1::RotateSigningKeyRequest* request,
                                v1::RotateSigningKeyResponse* response) override;
  grpc::Status ListAuditEntries(grpc::ServerContext* context,
                                const v1::ListAuditEntriesRequest* request,
                                v1::ListAuditEntriesResponse* response) override;

 private:
  AdminService* service_;
  TokenVerifier* verifier_;
};

// The API forms of auth's records.
v1::Device DeviceToProto(const DeviceRecord& device);
v1::ApiKey ApiKeyToProto(const ApiKeyRecord& key);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_GRPC_AUTH_ADMIN_SERVICE_H_
