#include "common/notification_format.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace updraft {
namespace {

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// A bounds-checked reader over the input.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  bool Bytes(size_t n, std::string* out) {
    if (in_.size() - pos_ < n) return false;
    out->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool U8(uint8_t* v) {
    if (pos_ >= in_.size()) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool U32(int64_t* v) {
    if (in_.size() - pos_ < 4) return false;
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += 4;
    *v = r;
    return true;
  }
  bool String(std::string* out) {
    uint8_t n;
    return U8(&n) && Bytes(n, out);
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  absl::string_view in_;
  size_t pos_ = 0;
};

absl::Status CheckString(absl::string_view name, absl::string_view v) {
  if (v.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  if (v.size() > kNotificationMaxFieldSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is longer than ", kNotificationMaxFieldSize, " bytes"));
  }
  return absl::OkStatus();
}

bool FitsU32(int64_t v) { return v >= 0 && v <= 0xffffffffLL; }

}  // namespace

std::string NotificationKeyId(absl::string_view public_key) {
  return Sha256(public_key).substr(0, kNotificationKeyIdSize);
}

std::string NotificationIdHex(absl::string_view raw_id) { return absl::BytesToHexString(raw_id); }

absl::StatusOr<std::string> EncodeNotification(const NotificationFields& f,
                                               const Ed25519KeyPair& key) {
  if (f.id.size() != kNotificationIdSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("notification id must be ", kNotificationIdSize, " bytes"));
  }
  absl::Status s = CheckString("server_address", f.server_address);
  if (s.ok()) s = CheckString("software_name", f.software_name);
  if (s.ok()) s = CheckString("location", f.location);
  if (!s.ok()) return s;
  if (!FitsU32(f.timestamp_unix)) {
    return absl::InvalidArgumentError("timestamp does not fit 32 unsigned bits");
  }
  if (!FitsU32(f.expires_at_unix) || f.expires_at_unix <= f.timestamp_unix) {
    return absl::InvalidArgumentError("expiry must be after the timestamp and fit 32 bits");
  }
  std::string out;
  out.reserve(kNotificationFixedSize + f.server_address.size() + f.software_name.size() +
              f.location.size());
  out.push_back(static_cast<char>(kNotificationVersion));
  out += NotificationKeyId(key.public_key());
  out += f.id;
  PutU32(out, static_cast<uint32_t>(f.timestamp_unix));
  PutU32(out, static_cast<uint32_t>(f.expires_at_unix));
  for (const std::string* v : {&f.server_address, &f.software_name, &f.location}) {
    out.push_back(static_cast<char>(v->size()));
    out += *v;
  }
  auto sig = key.Sign(absl::StrCat(kNotificationSigningContext, out));
  if (!sig.ok()) return sig.status();
  out += *sig;
  return out;
}

absl::StatusOr<ParsedNotification> ParseNotification(absl::string_view bytes) {
  if (bytes.size() < kNotificationFixedSize) {
    return absl::InvalidArgumentError(absl::StrCat("notification is ", bytes.size(),
                                                   " bytes; at least ", kNotificationFixedSize,
                                                   " expected"));
  }
  if (static_cast<uint8_t>(bytes[0]) != kNotificationVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported notification version ", static_cast<uint8_t>(bytes[0])));
  }
  absl::string_view body = bytes.substr(0, bytes.size() - kEd25519SignatureSize);
  Reader r(body);
  ParsedNotification p;
  uint8_t version;
  if (!r.U8(&version) || !r.Bytes(kNotificationKeyIdSize, &p.key_id) ||
      !r.Bytes(kNotificationIdSize, &p.fields.id) || !r.U32(&p.fields.timestamp_unix) ||
      !r.U32(&p.fields.expires_at_unix)) {
    return absl::InvalidArgumentError("notification header truncated");
  }
  if (!r.String(&p.fields.server_address) || !r.String(&p.fields.software_name) ||
      !r.String(&p.fields.location)) {
    return absl::InvalidArgumentError("notification field length runs past the end");
  }
  if (r.remaining() != 0) {
    return absl::InvalidArgumentError("notification has trailing bytes before the signature");
  }
  if (p.fields.server_address.empty() || p.fields.software_name.empty() ||
      p.fields.location.empty()) {
    return absl::InvalidArgumentError("notification has an empty field");
  }
  p.signed_part = std::string(body);
  p.signature = std::string(bytes.substr(body.size()));
  return p;
}

std::string NotificationToBase64(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<std::string> NotificationFromHref(absl::string_view href) {
  size_t cut = href.find_last_of("/#=");
  absl::string_view tail = cut == absl::string_view::npos ? href : href.substr(cut + 1);
  std::string raw;
  if (tail.empty() || !absl::WebSafeBase64Unescape(tail, &raw)) {
    return absl::InvalidArgumentError("href does not end with a base64url notification");
  }
  return raw;
}

NotificationVerifier::NotificationVerifier(Options options) : options_(std::move(options)) {
  for (const std::string& k : options_.trusted_keys) AddTrustedKey(k);
}

void NotificationVerifier::AddTrustedKey(absl::string_view public_key) {
  absl::MutexLock lock(&mu_);
  keys_[NotificationKeyId(public_key)] = std::string(public_key);
}

absl::StatusOr<NotificationFields> NotificationVerifier::Accept(absl::string_view bytes) {
  auto parsed = ParseNotification(bytes);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&mu_);
  auto key = keys_.find(parsed->key_id);
  if (key == keys_.end()) {
    return absl::UnauthenticatedError("notification signed by an unknown key");
  }
  if (!Ed25519Verify(key->second, absl::StrCat(kNotificationSigningContext, parsed->signed_part),
                     parsed->signature)) {
    return absl::UnauthenticatedError("notification signature does not verify");
  }
  const int64_t now = absl::ToUnixSeconds(options_.clock->Now());
  if (parsed->fields.expires_at_unix <= now) {
    return absl::FailedPreconditionError("notification expired");
  }
  if (parsed->fields.timestamp_unix > now + absl::ToInt64Seconds(options_.max_clock_skew)) {
    return absl::FailedPreconditionError("notification timestamped in the future");
  }
  if (parsed->fields.expires_at_unix <= parsed->fields.timestamp_unix) {
    return absl::FailedPreconditionError("notification expires before it was issued");
  }
  const std::string& id = parsed->fields.id;
  if (seen_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("notification ", NotificationIdHex(id), " already received"));
  }
  if (seen_order_.size() >= options_.max_seen) {
    // Forget expired IDs first (a replay of one is stale anyway), then the oldest.
    std::deque<std::pair<int64_t, std::string>> kept;
    for (auto& e : seen_order_) {
      if (e.first > now) {
        kept.push_back(std::move(e));
      } else {
        seen_.erase(e.second);
      }
    }
    seen_order_ = std::move(kept);
    while (seen_order_.size() >= options_.max_seen) {
      seen_.erase(seen_order_.front().second);
      seen_order_.pop_front();
    }
  }
  seen_.insert(id);
  seen_order_.emplace_back(parsed->fields.expires_at_unix, id);
  return parsed->fields;
}

std::vector<std::pair<int64_t, std::string>> NotificationVerifier::SeenIds() {
  absl::MutexLock lock(&mu_);
  return std::vector<std::pair<int64_t, std::string>>(seen_order_.begin(), seen_order_.end());
}

void NotificationVerifier::RestoreSeen(const std::vector<std::pair<int64_t, std::string>>& seen) {
  const int64_t now = absl::ToUnixSeconds(options_.clock->Now());
  absl::MutexLock lock(&mu_);
  for (const auto& [expires, id] : seen) {
    if (expires <= now || seen_.contains(id) || seen_order_.size() >= options_.max_seen) continue;
    seen_.insert(id);
    seen_order_.emplace_back(expires, id);
  }
}

}  // namespace updraft
