#include "services/auth/grpc_auth_admin_service.h"

#include <map>
#include <string>

#include "common/operator_auth.h"
#include "common/status_util.h"
#include "services/auth/grpc_auth_service.h"

// Checks the operator token of the call for `role` and binds the caller to
// `who`, or returns the refusal.
#define UPDRAFT_AUTHORIZE(who, role, rpc)                             \
  auto who##_or = AuthorizeOperator(*context, *verifier_, role, rpc); \
  if (!who##_or.ok()) return ToGrpcStatus(who##_or.status());         \
  const OperatorIdentity& who = *who##_or;                            \
  (void)who

namespace updraft {
namespace {

grpc::Status DeviceReply(const absl::StatusOr<DeviceRecord>& device, v1::Device* response) {
  if (!device.ok()) return ToGrpcStatus(device.status());
  *response = DeviceToProto(*device);
  return grpc::Status::OK;
}

}  // namespace

v1::Device DeviceToProto(const DeviceRecord& device) {
  v1::Device out;
  out.set_device_id(device.device_id);
  if (device.key_type == KeyType::kEd25519) out.set_ed25519_public_key(device.public_key);
  out.set_key_type(KeyTypeToProto(device.key_type));
  out.set_public_key(device.public_key);
  out.set_status(std::string(DeviceStatusName(device.status)));
  out.mutable_attributes()->insert(device.attributes.begin(), device.attributes.end());
  out.set_created_at_unix(absl::ToUnixSeconds(device.created_at));
  out.set_updated_at_unix(absl::ToUnixSeconds(device.updated_at));
  return out;
}

v1::ApiKey ApiKeyToProto(const ApiKeyRecord& key) {
  v1::ApiKey out;
  out.set_key_id(key.key_id);
  out.set_name(key.name);
  out.set_role(std::string(RoleName(key.role)));
  out.set_created_at_unix(absl::ToUnixSeconds(key.created_at));
  if (key.revoked()) out.set_revoked_at_unix(absl::ToUnixSeconds(key.revoked_at));
  out.set_created_by(key.created_by);
  return out;
}

grpc::Status GrpcAuthAdminService::RegisterDevice(grpc::ServerContext* context,
                                                  const v1::RegisterDeviceRequest* request,
                                                  v1::Device* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RegisterDevice");
  std::map<std::string, std::string> attributes(request->attributes().begin(),
                                                request->attributes().end());
  auto type = KeyTypeFromProto(request->key_type());
  if (!type.ok()) return ToGrpcStatus(type.status());
  const std::string& key =
      request->public_key().empty() ? request->ed25519_public_key() : request->public_key();
  if (request->public_key().empty() && *type != KeyType::kEd25519) {
    return ToGrpcStatus(absl::InvalidArgumentError("public_key is required for this key_type"));
  }
  return DeviceReply(service_->RegisterDevice(who, request->device_id(), *type, key, attributes),
                     response);
}

grpc::Status GrpcAuthAdminService::GetDevice(grpc::ServerContext* context,
                                             const v1::GetDeviceRequest* request,
                                             v1::Device* response) {
  UPDRAFT_AUTHORIZE(who, Role::kViewer, "GetDevice");
  return DeviceReply(service_->GetDevice(request->device_id()), response);
}

grpc::Status GrpcAuthAdminService::ListDevices(grpc::ServerContext* context,
                                               const v1::ListDevicesRequest* request,
                                               v1::ListDevicesResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kViewer, "ListDevices");
  auto devices =
      service_->ListDevices(request->status(), request->after_device_id(), request->limit());
  if (!devices.ok()) return ToGrpcStatus(devices.status());
  for (const DeviceRecord& d : *devices) *response->add_devices() = DeviceToProto(d);
  int limit = request->limit() == 0 ? 100 : request->limit();
  if (static_cast<int>(devices->size()) == limit) {
    response->set_next_after_device_id(devices->back().device_id);
  }
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::ImportDevices(grpc::ServerContext* context,
                                                 const v1::ImportDevicesRequest* request,
                                                 v1::ImportDevicesResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "ImportDevices");
  auto imported = service_->ImportDevices(who, request->csv());
  if (!imported.ok()) return ToGrpcStatus(imported.status());
  response->set_imported(*imported);
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::AcceptDevice(grpc::ServerContext* context,
                                                const v1::DeviceActionRequest* request,
                                                v1::Device* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "AcceptDevice");
  return DeviceReply(service_->AcceptDevice(who, request->device_id(), request->reason()),
                     response);
}

grpc::Status GrpcAuthAdminService::RejectDevice(grpc::ServerContext* context,
                                                const v1::DeviceActionRequest* request,
                                                v1::Device* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RejectDevice");
  return DeviceReply(service_->RejectDevice(who, request->device_id(), request->reason()),
                     response);
}

grpc::Status GrpcAuthAdminService::RevokeDevice(grpc::ServerContext* context,
                                                const v1::DeviceActionRequest* request,
                                                v1::Device* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RevokeDevice");
  return DeviceReply(service_->RevokeDevice(who, request->device_id(), request->reason()),
                     response);
}

grpc::Status GrpcAuthAdminService::RevokeToken(grpc::ServerContext* context,
                                               const v1::RevokeTokenRequest* request,
                                               v1::RevokeTokenResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RevokeToken");
  auto until = service_->RevokeToken(who, request->token_id(), request->reason());
  if (!until.ok()) return ToGrpcStatus(until.status());
  response->set_remembered_until_unix(absl::ToUnixSeconds(*until));
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::CreateApiKey(grpc::ServerContext* context,
                                                const v1::CreateApiKeyRequest* request,
                                                v1::CreateApiKeyResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "CreateApiKey");
  auto key = service_->CreateApiKey(who, request->name(), request->role());
  if (!key.ok()) return ToGrpcStatus(key.status());
  *response->mutable_key() = ApiKeyToProto(key->record);
  response->set_api_key(key->api_key);
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::RevokeApiKey(grpc::ServerContext* context,
                                                const v1::RevokeApiKeyRequest* request,
                                                v1::ApiKey* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RevokeApiKey");
  auto key = service_->RevokeApiKey(who, request->key_id());
  if (!key.ok()) return ToGrpcStatus(key.status());
  *response = ApiKeyToProto(*key);
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::ListApiKeys(grpc::ServerContext* context,
                                               const v1::ListApiKeysRequest*,
                                               v1::ListApiKeysResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "ListApiKeys");
  auto keys = service_->ListApiKeys();
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  for (const ApiKeyRecord& k : *keys) *response->add_keys() = ApiKeyToProto(k);
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::RotateSigningKey(grpc::ServerContext* context,
                                                    const v1::RotateSigningKeyRequest*,
                                                    v1::RotateSigningKeyResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kAdmin, "RotateSigningKey");
  auto key = service_->RotateSigningKey(who);
  if (!key.ok()) return ToGrpcStatus(key.status());
  response->set_key_id(key->key_id);
  response->set_active_from_unix(absl::ToUnixSeconds(key->active_from));
  return grpc::Status::OK;
}

grpc::Status GrpcAuthAdminService::ListAuditEntries(grpc::ServerContext* context,
                                                    const v1::ListAuditEntriesRequest* request,
                                                    v1::ListAuditEntriesResponse* response) {
  UPDRAFT_AUTHORIZE(who, Role::kViewer, "ListAuditEntries");
  auto entries = service_->ListAudit(request->device_id(), request->before_id(), request->limit());
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (const AuditEntry& e : *entries) {
    v1::AuditEntry* out = response->add_entries();
    out->set_id(e.id);
    out->set_at_unix(absl::ToUnixSeconds(e.at));
    out->set_actor(e.actor);
    out->set_action(e.action);
    out->set_device_id(e.device_id);
    out->set_detail(e.detail);
  }
  return grpc::Status::OK;
}

}  // namespace updraft

#undef UPDRAFT_AUTHORIZE
