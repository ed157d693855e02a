#include "common/token.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "updraft/v1/auth.pb.h"

namespace updraft {

TokenSigner::TokenSigner(Ed25519KeyPair key, const Clock* clock, absl::Duration ttl)
    : key_(std::move(key)), key_id_(KeyIdFor(key_.public_key())), clock_(clock), ttl_(ttl) {}

absl::StatusOr<IssuedToken> TokenSigner::Issue(absl::string_view subject,
                                               absl::string_view audience,
                                               const TokenOptions& options) const {
  absl::Time now = clock_->Now();
  absl::Duration ttl = options.ttl > absl::ZeroDuration() ? options.ttl : ttl_;
  v1::TokenClaims claims;
  claims.set_key_id(key_id_);
  claims.set_subject(std::string(subject));
  claims.set_audience(std::string(audience));
  claims.set_issued_at_unix(absl::ToUnixSeconds(now));
  claims.set_expires_at_unix(absl::ToUnixSeconds(now + ttl));
  claims.set_token_id(absl::BytesToHexString(RandomBytes(12)));
  claims.set_role(options.role);
  std::string payload = claims.SerializeAsString();
  auto sig = key_.Sign(payload);
  if (!sig.ok()) return sig.status();
  return IssuedToken{
      absl::StrCat(absl::WebSafeBase64Escape(payload), ".", absl::WebSafeBase64Escape(*sig)),
      absl::FromUnixSeconds(claims.expires_at_unix()), claims.token_id()};
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
    : TokenVerifier(Options{.keys = keys,
                            .clock = clock,
                            .audience = std::move(audience),
                            .cache_capacity = cache_capacity}) {}

TokenVerifier::TokenVerifier(Options options) : options_(std::move(options)) {
  if (options_.metrics == nullptr) return;
  auto& results = prometheus::BuildCounter()
                      .Name("updraft_token_verifications_total")
                      .Help("Token verifications by audience and result.")
                      .Register(*options_.metrics);
  static constexpr const char* kNames[kResultCount] = {
      "ok",          "expired",        "not_yet_valid", "revoked", "bad_signature",
      "unknown_key", "wrong_audience", "malformed"};
  for (int r = 0; r < kResultCount; ++r) {
    results_[r] = &results.Add({{"audience", options_.audience}, {"result", kNames[r]}});
  }
  hits_ = &prometheus::BuildCounter()
               .Name("updraft_token_cache_hits_total")
               .Help("Token verifications served from the verified-token cache.")
               .Register(*options_.metrics)
               .Add({{"audience", options_.audience}});
  misses_ = &prometheus::BuildCounter()
                 .Name("updraft_token_cache_misses_total")
                 .Help("Token verifications that had to check a signature.")
                 .Register(*options_.metrics)
                 .Add({{"audience", options_.audience}});
}

void TokenVerifier::Count(Result result) {
  if (results_[result] != nullptr) results_[result]->Increment();
}

absl::StatusOr<AccessClaims> TokenVerifier::Verify(absl::string_view token) {
  AccessClaims claims;
  bool cached = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(token);
    if (it != cache_.end()) {
      claims = it->second;
      cached = true;
    } else if (auto old = old_cache_.find(token); old != old_cache_.end()) {
      claims = old->second;
      cached = true;
    }
  }
  if (hits_ != nullptr) (cached ? hits_ : misses_)->Increment();
  if (!cached) {
    Result result = kOk;
    auto verified = VerifyUncached(token, &result);
    if (!verified.ok()) {
      Count(result);
      return verified.status();
    }
    claims = *std::move(verified);
  }
  absl::Time now = options_.clock->Now();
  if (now >= claims.expires_at) {
    Count(kExpired);
    return absl::UnauthenticatedError("access token expired; log in again");
  }
  if (claims.issued_at > now + options_.max_clock_skew) {
    Count(kNotYetValid);
    return absl::UnauthenticatedError("access token not yet valid");
  }
  if (options_.revocations != nullptr) {
    absl::Status revoked = options_.revocations->Check(claims);
    if (!revoked.ok()) {
      Count(kRevoked);
      return revoked;
    }
  }
  if (!cached) {
    absl::MutexLock lock(&mu_);
    size_t generation = std::max<size_t>(1, options_.cache_capacity / 2);
    if (cache_.size() >= generation) {
      old_cache_ = std::move(cache_);
      cache_.clear();
    }
    cache_.emplace(std::string(token), claims);
  }
  Count(kOk);
  return claims;
}

absl::StatusOr<AccessClaims> TokenVerifier::VerifyUncached(absl::string_view token,
                                                           Result* result) {
  *result = kMalformed;
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
  auto key = options_.keys->Get(pb.key_id());
  if (!key.ok()) {
    *result = kUnknownKey;
    if (absl::IsUnavailable(key.status())) return key.status();
    return absl::UnauthenticatedError(
        absl::StrCat("access token signed by unknown key ", absl::CEscape(pb.key_id())));
  }
  if (!Ed25519Verify(*key, payload, sig)) {
    *result = kBadSignature;
    return absl::UnauthenticatedError("access token signature is invalid");
  }
  if (pb.audience() != options_.audience) {
    *result = kWrongAudience;
    return absl::UnauthenticatedError(absl::StrCat("access token is for audience '",
                                                   absl::CEscape(pb.audience()), "', not '",
                                                   options_.audience, "'"));
  }
  *result = kOk;
  return AccessClaims{pb.key_id(),
                      pb.subject(),
                      pb.audience(),
                      pb.token_id(),
                      absl::FromUnixSeconds(pb.issued_at_unix()),
                      absl::FromUnixSeconds(pb.expires_at_unix()),
                      pb.role()};
}

}  // namespace updraft
