#ifndef UPDRAFT_COMMON_OPERATOR_AUTH_H_
#define UPDRAFT_COMMON_OPERATOR_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/token.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

// Operator roles, ordered: an admin may do what a publisher may, a publisher
// what a viewer may.
enum class Role { kViewer = 1, kPublisher = 2, kAdmin = 3 };

// "viewer", "publisher", "admin".
absl::string_view RoleName(Role role);
// INVALID_ARGUMENT for any other name.
absl::StatusOr<Role> ParseRole(absl::string_view name);

// Who called a management RPC, from their operator token.
struct OperatorIdentity {
  // The API key ID (the token's subject).
  std::string key_id;
  Role role = Role::kViewer;
  std::string token_id;
};

// The check at the top of every management RPC: verifies the operator token
// in "authorization: Bearer <token>" with `operator_verifier` (audience
// kOperatorAudience) and requires `required` or a higher role.
// UNAUTHENTICATED without a token or with a bad, expired or revoked one;
// PERMISSION_DENIED "role viewer may not call CreateRelease; needs publisher"
// when the role is too low. `rpc` is the method name put in that message.
absl::StatusOr<OperatorIdentity> AuthorizeOperator(const grpc::ServerContextBase& context,
                                                   TokenVerifier& operator_verifier, Role required,
                                                   absl::string_view rpc);

// Reads an API key file (the key as base64url text, as updraftctl
// create-api-key --out and auth --bootstrap_admin_key_file write it) and
// returns that text. INVALID_ARGUMENT when it does not hold a 32-byte key.
absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path);

// A service's (or tool's) operator credentials: logs in to auth with an API
// key (Auth.OperatorLogin), keeps the operator token, and logs in again when
// it expires within `renew_before`. Thread-safe.
class OperatorTokenSource {
 public:
  OperatorTokenSource(std::unique_ptr<v1::Auth::StubInterface> auth, std::string api_key,
                      const Clock* clock, absl::Duration renew_before = absl::Minutes(1));

  // The current token, logging in first when needed. The login's error
  // otherwise (UNAUTHENTICATED for a bad or revoked key, UNAVAILABLE when
  // auth cannot be reached).
  absl::StatusOr<std::string> Token();
  // Adds "authorization: Bearer <token>" to an outgoing call.
  absl::Status Authorize(grpc::ClientContext* context);

 private:
  std::unique_ptr<v1::Auth::StubInterface> auth_;
  const std::string api_key_;
  const Clock* clock_;
  const absl::Duration renew_before_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_OPERATOR_AUTH_H_
