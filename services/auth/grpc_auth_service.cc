#include "services/auth/grpc_auth_service.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_util.h"

namespace updraft {

std::string PeerSource(absl::string_view peer) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (!absl::StartsWith(peer, scheme)) continue;
    std::string rest =
        absl::StrReplaceAll(peer.substr(scheme.size()), {{"%5B", "["}, {"%5D", "]"}});
    if (!rest.empty() && rest[0] == '[') {
      size_t close = rest.find(']');
      if (close != std::string::npos) return rest.substr(1, close - 1);
      return rest;
    }
    size_t colon = rest.rfind(':');
    return colon == std::string::npos ? rest : rest.substr(0, colon);
  }
  return std::string(peer);
}

grpc::Status ToGrpcStatusWithRetry(const absl::Status& status, grpc::ServerContext* context) {
  if (status.code() == absl::StatusCode::kResourceExhausted && context != nullptr) {
    if (auto retry = status.GetPayload(kRetryAfterPayload)) {
      context->AddTrailingMetadata("retry-after-ms", std::string(*retry));
    }
  }
  return ToGrpcStatus(status);
}

v1::KeyType KeyTypeToProto(KeyType type) {
  return type == KeyType::kEcdsaP256 ? v1::KEY_TYPE_ECDSA_P256 : v1::KEY_TYPE_ED25519;
}

absl::StatusOr<KeyType> KeyTypeFromProto(v1::KeyType type) {
  switch (type) {
    case v1::KEY_TYPE_UNSPECIFIED:
    case v1::KEY_TYPE_ED25519:
      return KeyType::kEd25519;
    case v1::KEY_TYPE_ECDSA_P256:
      return KeyType::kEcdsaP256;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("key_type ", static_cast<int>(type), " is not a known key type"));
  }
}

grpc::Status GrpcAuthService::GetChallenge(grpc::ServerContext* context,
                                           const v1::GetChallengeRequest* request,
                                           v1::Challenge* response) {
  ChallengeRequest r;
  r.device_id = request->device_id();
  r.source = PeerSource(context->peer());
  r.public_key = request->public_key();
  auto type = KeyTypeFromProto(request->key_type());
  if (!type.ok()) return ToGrpcStatus(type.status());
  r.key_type = *type;
  auto challenge = service_->GetChallenge(r);
  if (!challenge.ok()) return ToGrpcStatusWithRetry(challenge.status(), context);
  response->set_nonce(challenge->nonce);
  response->set_expires_at_unix(absl::ToUnixSeconds(challenge->expires_at));
  return grpc::Status::OK;
}

grpc::Status GrpcAuthService::Login(grpc::ServerContext* context, const v1::LoginRequest* request,
                                    v1::LoginResponse* response) {
  auto login = service_->Login(
      {request->device_id(), request->nonce(), request->signature(), PeerSource(context->peer())});
  if (!login.ok()) return ToGrpcStatusWithRetry(login.status(), context);
  response->set_access_token(login->token.token);
  response->set_expires_at_unix(absl::ToUnixSeconds(login->token.expires_at));
  if (login->next_challenge.has_value()) {
    response->mutable_next_challenge()->set_nonce(login->next_challenge->nonce);
    response->mutable_next_challenge()->set_expires_at_unix(
        absl::ToUnixSeconds(login->next_challenge->expires_at));
  }
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

grpc::Status GrpcAuthService::OperatorLogin(grpc::ServerContext* context,
                                            const v1::OperatorLoginRequest* request,
                                            v1::OperatorLoginResponse* response) {
  auto token = service_->OperatorLogin(request->api_key(), PeerSource(context->peer()));
  if (!token.ok()) return ToGrpcStatusWithRetry(token.status(), context);
  response->set_access_token(token->token.token);
  response->set_expires_at_unix(absl::ToUnixSeconds(token->token.expires_at));
  response->set_role(std::string(RoleName(token->role)));
  response->set_key_id(token->key_id);
  return grpc::Status::OK;
}

}  // namespace updraft
