#include "common/revocation.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace updraft {
namespace {

std::string SubjectKey(absl::string_view audience, absl::string_view subject) {
  return absl::StrCat(audience, absl::string_view("\0", 1), subject);
}

bool IsWord(absl::string_view s) {
  return !s.empty() && s.size() <= 256 && std::none_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\0' || c == '\n' || c == '\r';
  });
}

}  // namespace

std::string EncodeRevocation(const Revocation& r) {
  bool subject = r.kind == Revocation::Kind::kSubject;
  return absl::StrCat("v1 ", subject ? "subject " : "token ", subject ? r.audience : "-", " ", r.id,
                      " ", absl::ToUnixMillis(r.revoked_at), " ", absl::ToUnixMillis(r.expires_at));
}

absl::StatusOr<Revocation> DecodeRevocation(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, ' ');
  int64_t revoked_ms = 0, expires_ms = 0;
  if (f.size() != 6 || f[0] != "v1" || (f[1] != "subject" && f[1] != "token") || !IsWord(f[2]) ||
      !IsWord(f[3]) || !absl::SimpleAtoi(f[4], &revoked_ms) ||
      !absl::SimpleAtoi(f[5], &expires_ms)) {
    return absl::InvalidArgumentError("malformed revocation message");
  }
  Revocation r;
  r.kind = f[1] == "subject" ? Revocation::Kind::kSubject : Revocation::Kind::kToken;
  if (r.kind == Revocation::Kind::kSubject) r.audience = std::string(f[2]);
  r.id = std::string(f[3]);
  r.revoked_at = absl::FromUnixMillis(revoked_ms);
  r.expires_at = absl::FromUnixMillis(expires_ms);
  return r;
}

void RevocationList::Add(const Revocation& r) {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  PruneLocked(now);
  if (r.expires_at > now) {
    if (r.kind == Revocation::Kind::kToken) {
      absl::Time& expiry = tokens_[r.id];
      expiry = std::max(expiry, r.expires_at);
    } else {
      auto [it, inserted] = subjects_.try_emplace(SubjectKey(r.audience, r.id),
                                                  SubjectEntry{r.revoked_at, r.expires_at});
      if (!inserted) {
        it->second.revoked_at = std::max(it->second.revoked_at, r.revoked_at);
        it->second.expires_at = std::max(it->second.expires_at, r.expires_at);
      }
    }
  }
  ++revision_;
}

void RevocationList::PruneLocked(absl::Time now) {
  absl::erase_if(subjects_, [now](const auto& e) { return e.second.expires_at <= now; });
  absl::erase_if(tokens_, [now](const auto& e) { return e.second <= now; });
}

absl::Status RevocationList::Check(const AccessClaims& claims) const {
  absl::ReaderMutexLock lock(&mu_);
  if (subjects_.empty() && tokens_.empty()) return absl::OkStatus();
  if (!claims.token_id.empty() && tokens_.contains(claims.token_id)) {
    return absl::UnauthenticatedError("access token revoked");
  }
  auto it = subjects_.find(SubjectKey(claims.audience, claims.subject));
  if (it != subjects_.end() && claims.issued_at <= it->second.revoked_at) {
    if (claims.audience == kDeviceAudience) {
      return absl::UnauthenticatedError(absl::StrCat("device ", claims.subject, " is revoked"));
    }
    if (claims.audience == kOperatorAudience) {
      return absl::UnauthenticatedError(absl::StrCat("API key ", claims.subject, " is revoked"));
    }
    return absl::UnauthenticatedError(absl::StrCat(claims.subject, " is revoked"));
  }
  return absl::OkStatus();
}

uint64_t RevocationList::revision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

bool RevocationList::AwaitRevision(uint64_t revision, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, revision]()
                     ABSL_SHARED_LOCKS_REQUIRED(mu_) { return revision_ >= revision; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

size_t RevocationList::size() const {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  size_t n = 0;
  for (const auto& [k, e] : subjects_) n += e.expires_at > now;
  for (const auto& [k, e] : tokens_) n += e > now;
  return n;
}

}  // namespace updraft
