#ifndef UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "services/auth/auth_service.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

// The device-facing gRPC API (updraft.v1.Auth) over an AuthService.
class GrpcAuthService final : public v1::Auth::Service {
 public:
  // `service` must outlive this adapter.
  explicit GrpcAuthService(AuthService* service) : service_(service) {}

  grpc::Status GetChallenge(grpc::ServerContext* context, const v1::GetChallengeRequest* request,
                            v1::Challenge* response) override;
  grpc::Status Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;
  grpc::Status GetPublicKeys(grpc::ServerContext* context, const v1::GetPublicKeysRequest* request,
                             v1::PublicKeySet* response) override;

 private:
  AuthService* service_;
};

// The operator-facing gRPC API (updraft.v1.AuthAdmin) over an AuthService.
class GrpcAuthAdminService final : public v1::AuthAdmin::Service {
 public:
  // `service` must outlive this adapter.
  explicit GrpcAuthAdminService(AuthService* service) : service_(service) {}

  grpc::Status RegisterDevice(grpc::ServerContext* context,
                              const v1::RegisterDeviceRequest* request,
                              v1::Device* response) override;
  grpc::Status GetDevice(grpc::ServerContext* context, const v1::GetDeviceRequest* request,
                         v1::Device* response) override;

 private:
  AuthService* service_;
};

// The API form of a device record.
v1::Device DeviceToProto(const DeviceRecord& device);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_
