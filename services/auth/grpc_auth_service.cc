#include "services/auth/grpc_auth_service.h"

#include <map>
#include <string>

#include "common/status_util.h"

namespace updraft {

v1::Device DeviceToProto(const DeviceRecord& device) {
  v1::Device out;
  out.set_device_id(device.device_id);
  out.set_ed25519_public_key(device.public_key);
  out.set_status(std::string(DeviceStatusName(device.status)));
  out.mutable_attributes()->insert(device.attributes.begin(), device.attributes.end());
  out.set_created_at_unix(absl::ToUnixSeconds(device.created_at));
  return out;
}

grpc::Status GrpcAuthService::GetChallenge(grpc::ServerContext*,
                                           const v1::GetChallengeRequest* request,
                                           v1::Challenge* response) {
  auto challenge = service_->GetChallenge(request->device_id());
  if (!challenge.ok()) return ToGrpcStatus(challenge.status());
  response->set_nonce(challenge->nonce);
  response->set_expires_at_unix(absl::ToUnixSeconds(challenge->expires_at));
  return grpc::Status::OK;
}

grpc::Status GrpcAuthService::Login(grpc::ServerContext*, const v1::LoginRequest* request,
                                    v1::LoginResponse* response) {
  auto token = service_->Login(request->device_id(), request->nonce(), request->signature());
  if (!token.ok()) return ToGrpcStatus(token.status());
  response->set_access_token(token->token);
  response->set_expires_at_unix(absl::ToUnixSeconds(token->expires_at));
  return grpc::Status::OK;
}

grpc::Status GrpcAuthService::GetPublicKeys(grpc::ServerContext*, const v1::GetPublicKeysRequest*,
                                            v1::PublicKeySet* response) {
  for (const TokenKey& key : service_->PublicKeys()) {
    v1::PublicKey* out = response->add_keys();
    out->set_key_id(key.key_id);
    out->set_ed25519(key.public_key);
  }
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::RegisterDevice(grpc::ServerContext*,
                                                  const v1::RegisterDeviceRequest* request,
                                                  v1::Device* response) {
  std::map<std::string, std::string> attributes(request->attributes().begin(),
                                                request->attributes().end());
  auto device =
      service_->RegisterDevice(request->device_id(), request->ed25519_public_key(), attributes);
  if (!device.ok()) return ToGrpcStatus(device.status());
  *response = DeviceToProto(*device);
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::GetDevice(grpc::ServerContext*,
                                             const v1::GetDeviceRequest* request,
                                             v1::Device* response) {
  auto device = service_->GetDevice(request->device_id());
  if (!device.ok()) return ToGrpcStatus(device.status());
  *response = DeviceToProto(*device);
  return grpc::Status::OK;
}

}  // namespace updraft
