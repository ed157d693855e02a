#ifndef UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/string_view.h"
#include "services/auth/auth_service.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

// The device-facing gRPC API (updraft.v1.Auth) over an AuthService. The
// caller's IP address (ServerContext::peer()) is the rate-limit source; a
// RESOURCE_EXHAUSTED answer carries trailing metadata "retry-after-ms".
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
  grpc::Status OperatorLogin(grpc::ServerContext* context, const v1::OperatorLoginRequest* request,
                             v1::OperatorLoginResponse* response) override;

 private:
  AuthService* service_;
};

// The address part of a gRPC peer string: "ipv4:10.0.0.7:5000" -> "10.0.0.7",
// "ipv6:[::1]:5000" (or its %5B %5D escaped form) -> "::1"; anything else as
// given.
std::string PeerSource(absl::string_view peer);

// Converts a status for gRPC; a RESOURCE_EXHAUSTED carrying
// kRetryAfterPayload also sets the trailing metadata "retry-after-ms".
grpc::Status ToGrpcStatusWithRetry(const absl::Status& status, grpc::ServerContext* context);

// The API form of a key type, and back (UNSPECIFIED means Ed25519).
v1::KeyType KeyTypeToProto(KeyType type);
absl::StatusOr<KeyType> KeyTypeFromProto(v1::KeyType type);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_GRPC_AUTH_SERVICE_H_
