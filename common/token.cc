#include "common/token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "updraft/v1/auth.pb.h"

namespace updraft {

std::string LoginMessage(absl::string_view device_id, absl::string_view nonce) {
  return absl::StrCat(absl::string_view("updraft-login-v1\0", 17), device_id,
                      absl::string_view("\0", 1), nonce);
}

std::string KeyIdFor(absl::string_view raw_public_key) {
  return Sha256Hex(raw_public_key).substr(0, 16);
}

TokenSigner::TokenSigner(Ed25519KeyPair key, const Clock* clock, absl::Duration ttl)
    : key_(std::move(key)), key_id_(KeyIdFor(key_.public_key())), clock_(clock), ttl_(ttl) {}

absl::StatusOr<IssuedToken> TokenSigner::Issue(absl::string_view subject,
                                               absl::string_view audience) const {
  absl::Time now = clock_->Now();
  v1::TokenClaims claims;
  claims.set_key_id(key_id_);
  claims.set_subject(std::string(subject));
  claims.set_audience(std::string(audience));
  claims.set_issued_at_unix(absl::ToUnixSeconds(now));
  claims.set_expires_at_unix(absl::ToUnixSeconds(now + ttl_));
  claims.set_token_id(absl::BytesToHexString(RandomBytes(12)));
  std::string payload = claims.SerializeAsString();
  auto sig = key_.Sign(payload);
  if (!sig.ok()) return sig.status();
  return IssuedToken{
      absl::StrCat(absl::WebSafeBase64Escape(payload), ".", absl::WebSafeBase64Escape(*sig)),
      absl::FromUnixSeconds(claims.expires_at_unix())};
}

void StaticKeySource::Add(absl::string_view raw_public_key) {
  absl::MutexLock lock(&mu_);
  keys_[KeyIdFor(raw_public_key)] = std::string(raw_public_key);
}

absl::StatusOr<std::string> StaticKeySource::Get(absl::string_view key_id) {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("unknown key id ", key_id));
  return it->second;
}

TokenVerifier::TokenVerifier(PublicKeySource* keys, const Clock* clock, std::string audience,
                             size_t cache_capacity)
    : keys_(keys), clock_(clock), audience_(std::move(audience)), cache_capacity_(cache_capacity) {}

absl::StatusOr<AccessClaims> TokenVerifier::Verify(absl::string_view token) {
  AccessClaims claims;
  bool cached = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      claims = it->second;
      cached = true;
    }
  }
  if (!cached) {
    auto verified = VerifyUncached(token);
    if (!verified.ok()) return verified.status();
    claims = *std::move(verified);
    absl::MutexLock lock(&mu_);
    if (cache_.size() >= cache_capacity_) cache_.clear();
    cache_.emplace(std::string(token), claims);
  }
  if (clock_->Now() >= claims.expires_at) {
    return absl::UnauthenticatedError("access token expired; log in again");
  }
  return claims;
}

absl::StatusOr<AccessClaims> TokenVerifier::VerifyUncached(absl::string_view token) {
  size_t dot = token.find('.');
  if (token.empty()) return absl::UnauthenticatedError("missing access token");
  if (dot == absl::string_view::npos || token.size() > 4096) {
    return absl::UnauthenticatedError("malformed access token");
  }
  std::string payload, sig;
  if (!absl::WebSafeBase64Unescape(token.substr(0, dot), &payload) ||
      !absl::WebSafeBase64Unescape(token.substr(dot + 1), &sig)) {
    return absl::UnauthenticatedError("malformed access token");
  }
  v1::TokenClaims pb;
  if (!pb.ParseFromString(payload)) return absl::UnauthenticatedError("malformed access token");
  auto key = keys_->Get(pb.key_id());
  if (!key.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("access token signed by unknown key ", pb.key_id()));
  }
  if (!Ed25519Verify(*key, payload, sig)) {
    return absl::UnauthenticatedError("access token signature is invalid");
  }
  if (pb.audience() != audience_) {
    return absl::UnauthenticatedError(
        absl::StrCat("access token is for audience '", pb.audience(), "', not '", audience_, "'"));
  }
  return AccessClaims{pb.key_id(),
                      pb.subject(),
                      pb.audience(),
                      pb.token_id(),
                      absl::FromUnixSeconds(pb.issued_at_unix()),
                      absl::FromUnixSeconds(pb.expires_at_unix())};
}

}  // namespace updraft
