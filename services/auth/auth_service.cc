#include "services/auth/auth_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/status_util.h"

namespace updraft {
namespace {

constexpr absl::string_view kBadChallenge = "challenge is unknown, expired or already used";

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '-';
}

// True for well-formed UTF-8 without overlong forms, surrogates or code
// points past U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

absl::Status ValidateAttributes(const std::map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return absl::InvalidArgumentError(absl::StrCat("attributes: at most ", kMaxAttributes,
                                                   " entries allowed, got ", attributes.size()));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxAttributeKeyLength ||
        !std::all_of(key.begin(), key.end(), IsIdChar)) {
      return absl::InvalidArgumentError(absl::StrCat("attributes: key '", absl::CEscape(key),
                                                     "' must be 1..", kMaxAttributeKeyLength,
                                                     " characters of [A-Za-z0-9._:-]"));
    }
    if (value.size() > kMaxAttributeValueLength) {
      return absl::InvalidArgumentError(absl::StrCat("attributes[", key, "]: at most ",
                                                     kMaxAttributeValueLength, " bytes allowed"));
    }
    if (!IsValidUtf8(value) || value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("attributes[", key, "]: must be UTF-8 text without NUL characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDeviceId(absl::string_view device_id) {
  if (device_id.empty()) return absl::InvalidArgumentError("device_id is required");
  if (device_id.size() > kMaxDeviceIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("device_id is ", device_id.size(),
                                                   " characters long; at most ", kMaxDeviceIdLength,
                                                   " allowed"));
  }
  if (!std::all_of(device_id.begin(), device_id.end(), IsIdChar)) {
    return absl::InvalidArgumentError(absl::StrCat("device_id '", absl::CEscape(device_id),
                                                   "' may contain only [A-Za-z0-9._:-]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AuthService>> AuthService::Create(Options options) {
  if (options.registry == nullptr || options.challenges == nullptr || options.clock == nullptr ||
      options.signer == nullptr) {
    return absl::InvalidArgumentError(
        "AuthService needs a device registry, a challenge store, a clock and a token signer");
  }
  if (options.challenge_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("AuthService challenge_ttl must be at least 1s");
  }
  return std::unique_ptr<AuthService>(new AuthService(std::move(options)));
}

AuthService::AuthService(Options options) : options_(std::move(options)) {
  prometheus::Registry* registry = options_.metrics;
  if (registry == nullptr) {
    own_metrics_ = std::make_shared<prometheus::Registry>();
    registry = own_metrics_.get();
  }
  auto& logins = prometheus::BuildCounter()
                     .Name("updraft_auth_logins_total")
                     .Help("Device login attempts, by result.")
                     .Register(*registry);
  logins_ok_ = &logins.Add({{"result", "ok"}});
  logins_bad_signature_ = &logins.Add({{"result", "bad_signature"}});
  logins_bad_challenge_ = &logins.Add({{"result", "bad_challenge"}});
  logins_unknown_device_ = &logins.Add({{"result", "unknown_device"}});
  logins_not_accepted_ = &logins.Add({{"result", "not_accepted"}});
}

absl::StatusOr<DeviceRecord> AuthService::GetAcceptedDevice(absl::string_view device_id) {
  auto device = GetDevice(device_id);
  if (!device.ok()) {
    if (device.status().code() == absl::StatusCode::kNotFound) logins_unknown_device_->Increment();
    return device.status();
  }
  if (device->status != DeviceStatus::kAccepted) {
    logins_not_accepted_->Increment();
    return absl::PermissionDeniedError(absl::StrCat("device ", device_id, " is ",
                                                    DeviceStatusName(device->status),
                                                    "; only accepted devices may log in"));
  }
  return device;
}

absl::StatusOr<IssuedChallenge> AuthService::GetChallenge(absl::string_view device_id) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  UPDRAFT_ASSIGN_OR_RETURN(DeviceRecord device, GetAcceptedDevice(device_id));
  IssuedChallenge challenge{RandomBytes(kNonceSize),
                            options_.clock->Now() + options_.challenge_ttl};
  UPDRAFT_RETURN_IF_ERROR(
      options_.challenges->Put(challenge.nonce, device.device_id, options_.challenge_ttl));
  return challenge;
}

absl::StatusOr<IssuedToken> AuthService::Login(absl::string_view device_id, absl::string_view nonce,
                                               absl::string_view signature) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  if (nonce.size() != kNonceSize) {
    return absl::InvalidArgumentError(absl::StrCat("nonce must be the ", kNonceSize,
                                                   " bytes from GetChallenge, got ", nonce.size()));
  }
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError(absl::StrCat("signature must be a ", kEd25519SignatureSize,
                                                   "-byte Ed25519 signature, got ",
                                                   signature.size(), " bytes"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::optional<std::string> issued_to, options_.challenges->Take(nonce));
  if (!issued_to.has_value() || *issued_to != device_id) {
    logins_bad_challenge_->Increment();
    return absl::UnauthenticatedError(kBadChallenge);
  }
  UPDRAFT_ASSIGN_OR_RETURN(DeviceRecord device, GetAcceptedDevice(device_id));
  if (!Ed25519Verify(device.public_key, LoginMessage(device_id, nonce), signature)) {
    logins_bad_signature_->Increment();
    return absl::UnauthenticatedError(
        absl::StrCat("signature does not verify with the registered key of device ", device_id));
  }
  UPDRAFT_ASSIGN_OR_RETURN(IssuedToken token, options_.signer->Issue(device_id, kDeviceAudience));
  logins_ok_->Increment();
  return token;
}

absl::StatusOr<DeviceRecord> AuthService::RegisterDevice(
    absl::string_view device_id, absl::string_view public_key,
    const std::map<std::string, std::string>& attributes) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("ed25519_public_key must be the raw ", kEd25519PublicKeySize,
                     "-byte Ed25519 public key, got ", public_key.size(), " bytes"));
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateAttributes(attributes));
  DeviceRecord device;
  device.device_id = std::string(device_id);
  device.public_key = std::string(public_key);
  device.status = DeviceStatus::kAccepted;
  device.attributes = attributes;
  return options_.registry->Register(device);
}

absl::StatusOr<DeviceRecord> AuthService::GetDevice(absl::string_view device_id) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  auto device = options_.registry->Get(device_id);
  if (device.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
  }
  return device;
}

std::vector<TokenKey> AuthService::PublicKeys() const {
  return {TokenKey{options_.signer->key_id(), options_.signer->public_key()}};
}

}  // namespace updraft
