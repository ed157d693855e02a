#ifndef UPDRAFT_COMMON_DEVICE_AUTH_H_
#define UPDRAFT_COMMON_DEVICE_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/token.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

// The token of "authorization: Bearer <token>" in a call's metadata (a view
// into the context's metadata); UNAUTHENTICATED when missing or malformed.
absl::StatusOr<absl::string_view> BearerToken(const grpc::ServerContextBase& context);

// Reads "authorization: Bearer <token>" from a call's metadata and verifies
// it; UNAUTHENTICATED with a clear message otherwise. Returns the device ID.
absl::StatusOr<std::string> AuthenticateDevice(const grpc::ServerContextBase& context,
                                               TokenVerifier& verifier);

// Public keys fetched from the auth service's GetPublicKeys RPC. Keys are
// cached; an unknown key ID triggers a refetch (at most once per
// `min_refresh_interval`), so a rotated key is picked up without restarts.
class AuthServiceKeySource : public PublicKeySource {
 public:
  AuthServiceKeySource(std::unique_ptr<v1::Auth::StubInterface> stub, const Clock* clock,
                       absl::Duration min_refresh_interval = absl::Seconds(5));
  absl::StatusOr<std::string> Get(absl::string_view key_id) override;
  // Fetches the key set now.
  absl::Status Refresh();

 private:
  std::unique_ptr<v1::Auth::StubInterface> stub_;
  const Clock* clock_;
  const absl::Duration min_refresh_interval_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time last_refresh_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_DEVICE_AUTH_H_
