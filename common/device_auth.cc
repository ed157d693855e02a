#include "common/device_auth.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {

absl::StatusOr<absl::string_view> BearerToken(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError("missing authorization metadata; log in first");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, "Bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  return value.substr(7);
}

absl::StatusOr<std::string> AuthenticateDevice(const grpc::ServerContextBase& context,
                                               TokenVerifier& verifier) {
  UPDRAFT_ASSIGN_OR_RETURN(absl::string_view token, BearerToken(context));
  auto claims = verifier.Verify(token);
  if (!claims.ok()) return claims.status();
  return claims->subject;
}

AuthServiceKeySource::AuthServiceKeySource(std::unique_ptr<v1::Auth::StubInterface> stub,
                                           const Clock* clock, absl::Duration min_refresh_interval)
    : stub_(std::move(stub)), clock_(clock), min_refresh_interval_(min_refresh_interval) {}

absl::Status AuthServiceKeySource::Refresh() {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::PublicKeySet set;
  grpc::Status s = stub_->GetPublicKeys(&ctx, v1::GetPublicKeysRequest(), &set);
  absl::MutexLock lock(&mu_);
  last_refresh_ = clock_->Now();
  if (!s.ok()) return FromGrpcStatus(s);
  for (const auto& k : set.keys()) {
    if (k.ed25519().size() == kEd25519PublicKeySize && KeyIdFor(k.ed25519()) == k.key_id()) {
      keys_[k.key_id()] = k.ed25519();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AuthServiceKeySource::Get(absl::string_view key_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(key_id);
    if (it != keys_.end()) return it->second;
    if (clock_->Now() - last_refresh_ < min_refresh_interval_) {
      return absl::NotFoundError(absl::StrCat("unknown key id ", key_id));
    }
  }
  absl::Status s = Refresh();
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("cannot fetch auth keys: ", s.message()));
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("unknown key id ", key_id));
  return it->second;
}

}  // namespace updraft
