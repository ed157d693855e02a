#include "common/operator_auth.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/device_auth.h"
#include "common/status_util.h"

namespace updraft {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kPublisher:
      return "publisher";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kViewer, Role::kPublisher, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown role '", absl::CEscape(name),
                                                 "'; expected admin, publisher or viewer"));
}

absl::StatusOr<OperatorIdentity> AuthorizeOperator(const grpc::ServerContextBase& context,
                                                   TokenVerifier& operator_verifier, Role required,
                                                   absl::string_view rpc) {
  auto token = BearerToken(context);
  if (!token.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(token.status().message(), " (", rpc,
                                                   " needs an operator token from OperatorLogin)"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(AccessClaims claims, operator_verifier.Verify(*token));
  auto role = ParseRole(claims.role);
  if (!role.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("operator token carries no valid role; ", rpc, " needs ", RoleName(required)));
  }
  if (static_cast<int>(*role) < static_cast<int>(required)) {
    return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(*role), " may not call ", rpc,
                                                    "; needs ", RoleName(required)));
  }
  return OperatorIdentity{claims.subject, *role, claims.token_id};
}

absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string raw, ReadKeyFile(path));
  if (raw.size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "API key file ", path, " must hold a 32-byte key, got ", raw.size(), " bytes"));
  }
  return absl::WebSafeBase64Escape(raw);
}

OperatorTokenSource::OperatorTokenSource(std::unique_ptr<v1::Auth::StubInterface> auth,
                                         std::string api_key, const Clock* clock,
                                         absl::Duration renew_before)
    : auth_(std::move(auth)),
      api_key_(std::move(api_key)),
      clock_(clock),
      renew_before_(renew_before) {}

absl::StatusOr<std::string> OperatorTokenSource::Token() {
  absl::MutexLock lock(&mu_);
  if (!token_.empty() && clock_->Now() + renew_before_ < expires_at_) return token_;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::OperatorLoginRequest request;
  request.set_api_key(api_key_);
  v1::OperatorLoginResponse response;
  grpc::Status s = auth_->OperatorLogin(&ctx, request, &response);
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("operator login: ", status.message()));
  }
  token_ = response.access_token();
  expires_at_ = absl::FromUnixSeconds(response.expires_at_unix());
  return token_;
}

absl::Status OperatorTokenSource::Authorize(grpc::ClientContext* context) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string token, Token());
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return absl::OkStatus();
}

}  // namespace updraft
