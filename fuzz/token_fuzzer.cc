// Fuzzes token parsing and verification (common/token.h, TokenVerifier) and
// the revocation messages verifiers receive over Redis (common/revocation.h,
// DecodeRevocation). The first byte picks the target:
//  0: the input is a bearer token. Only the genuine token issued at start-up
//     may verify; anything else is UNAUTHENTICATED.
//  1: the input is a TokenClaims payload, signed with the trusted key. The
//     verifier's answer must equal an independent decision from the claims
//     (parses, known key, audience, not expired, not from the future), and
//     accepted claims are returned unchanged; the same payload with any
//     altered signature byte is refused.
//  2: the input is a revocation message: refusals are INVALID_ARGUMENT and
//     decode(encode(r)) == r; a subject revocation of the start-up token's
//     device makes that token refused.
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/revocation.h"
#include "common/token.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seeds.h"
#include "updraft/v1/auth.pb.h"

namespace updraft {
namespace {

struct Fixture {
  FakeClock clock{absl::FromUnixSeconds(fuzz::kTokenNow)};
  Ed25519KeyPair key = *Ed25519KeyPair::FromPrivateKey(fuzz::TokenSeed());
  StaticKeySource keys;
  TokenSigner signer{key, &clock, absl::Hours(1)};
  IssuedToken issued;
  Fixture() {
    keys.Add(key.public_key());
    issued = *signer.Issue("phone-1", kDeviceAudience);
  }
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

TokenVerifier NewVerifier(Fixture& f, const RevocationChecker* revocations = nullptr) {
  TokenVerifier::Options o;
  o.keys = &f.keys;
  o.clock = &f.clock;
  o.audience = std::string(kDeviceAudience);
  o.revocations = revocations;
  o.cache_capacity = 4;
  return TokenVerifier(o);
}

void CheckToken(Fixture& f, absl::string_view token) {
  TokenVerifier verifier = NewVerifier(f);
  absl::StatusOr<AccessClaims> claims = verifier.Verify(token);
  if (claims.ok()) {
    // Only what auth's key signed verifies: check the signature independently.
    const size_t dot = token.find('.');
    std::string payload, sig;
    UPDRAFT_FUZZ_CHECK(dot != absl::string_view::npos);
    UPDRAFT_FUZZ_CHECK(absl::WebSafeBase64Unescape(token.substr(0, dot), &payload));
    UPDRAFT_FUZZ_CHECK(absl::WebSafeBase64Unescape(token.substr(dot + 1), &sig));
    UPDRAFT_FUZZ_CHECK_MSG(Ed25519Verify(f.key.public_key(), payload, sig),
                           "a token auth never signed verified");
    v1::TokenClaims pb;
    UPDRAFT_FUZZ_CHECK(pb.ParseFromString(payload));
    UPDRAFT_FUZZ_CHECK(claims->subject == pb.subject() && claims->token_id == pb.token_id());
    UPDRAFT_FUZZ_CHECK(pb.audience() == kDeviceAudience);
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsUnauthenticated(claims.status()));
  }
}

void CheckClaims(Fixture& f, absl::string_view payload) {
  const std::string sig = *f.key.Sign(payload);
  const std::string token =
      absl::StrCat(absl::WebSafeBase64Escape(payload), ".", absl::WebSafeBase64Escape(sig));
  v1::TokenClaims pb;
  const absl::Time now = f.clock.Now();
  const bool expect_ok =
      token.size() <= 4096 && pb.ParseFromArray(payload.data(), static_cast<int>(payload.size())) &&
      pb.key_id() == KeyIdFor(f.key.public_key()) && pb.audience() == kDeviceAudience &&
      now < absl::FromUnixSeconds(pb.expires_at_unix()) &&
      absl::FromUnixSeconds(pb.issued_at_unix()) <= now + absl::Seconds(30);
  TokenVerifier verifier = NewVerifier(f);
  absl::StatusOr<AccessClaims> claims = verifier.Verify(token);
  UPDRAFT_FUZZ_CHECK_MSG(claims.ok() == expect_ok, claims.status().ToString().c_str());
  if (claims.ok()) {
    UPDRAFT_FUZZ_CHECK(claims->subject == pb.subject() && claims->token_id == pb.token_id());
    UPDRAFT_FUZZ_CHECK(claims->role == pb.role() && claims->key_id == pb.key_id());
    // The cached path answers the same.
    absl::StatusOr<AccessClaims> cached = verifier.Verify(token);
    UPDRAFT_FUZZ_CHECK(cached.ok() && cached->subject == claims->subject);
    // Any flipped signature bit is refused.
    std::string bad = sig;
    bad[payload.size() % bad.size()] ^= 0x01;
    TokenVerifier fresh = NewVerifier(f);
    UPDRAFT_FUZZ_CHECK(!fresh
                            .Verify(absl::StrCat(absl::WebSafeBase64Escape(payload), ".",
                                                 absl::WebSafeBase64Escape(bad)))
                            .ok());
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsUnauthenticated(claims.status()));
  }
}

void CheckRevocation(Fixture& f, absl::string_view text) {
  absl::StatusOr<Revocation> r = DecodeRevocation(text);
  if (!r.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(r.status()));
    return;
  }
  absl::StatusOr<Revocation> again = DecodeRevocation(EncodeRevocation(*r));
  UPDRAFT_FUZZ_CHECK(again.ok());
  UPDRAFT_FUZZ_CHECK(again->kind == r->kind && again->audience == r->audience &&
                     again->id == r->id && again->revoked_at == r->revoked_at &&
                     again->expires_at == r->expires_at);
  RevocationList list(&f.clock);
  list.Add(*r);
  TokenVerifier verifier = NewVerifier(f, &list);
  absl::StatusOr<AccessClaims> claims = verifier.Verify(f.issued.token);
  const absl::Time now = f.clock.Now();
  const absl::Time issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  const bool revokes = r->expires_at > now &&
                       ((r->kind == Revocation::Kind::kToken && r->id == f.issued.token_id) ||
                        (r->kind == Revocation::Kind::kSubject && r->audience == kDeviceAudience &&
                         r->id == "phone-1" && issued_at <= r->revoked_at));
  UPDRAFT_FUZZ_CHECK_MSG(claims.ok() == !revokes, claims.status().ToString().c_str());
}

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::Fixture& f = updraft::Get();
  updraft::fuzz::FuzzInput in(data, size);
  const uint8_t mode = in.Byte() % 3;
  absl::string_view rest = in.Rest();
  if (mode == 0) updraft::CheckToken(f, rest);
  if (mode == 1) updraft::CheckClaims(f, rest);
  if (mode == 2) updraft::CheckRevocation(f, rest);
  return 0;
}
