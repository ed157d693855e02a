#include "services/auth/auth_service.h"

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/login_format.h"
#include "common/status_util.h"

namespace updraft {
namespace {

constexpr absl::string_view kBadChallenge = "challenge is unknown, expired or already used";

}  // namespace

absl::StatusOr<std::unique_ptr<AuthService>> AuthService::Create(Options options) {
  if (options.registry == nullptr || options.challenges == nullptr || options.api_keys == nullptr ||
      options.keys == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "AuthService needs a device registry, a challenge store, an API key store, a key ring "
        "and a clock");
  }
  if (options.challenge_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("AuthService challenge_ttl must be at least 1s");
  }
  if (options.next_challenge_ttl != absl::ZeroDuration() &&
      options.next_challenge_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "AuthService next_challenge_ttl must be 0 (none) or at least 1s");
  }
  if (options.operator_token_ttl <= absl::ZeroDuration() ||
      options.operator_token_ttl > options.keys->max_token_ttl()) {
    return absl::InvalidArgumentError(
        "operator token lifetime must be positive and at most the key ring's max_token_ttl");
  }
  for (const RateLimit* l : {&options.per_device, &options.per_source}) {
    if (l->max_attempts < 0 || l->window < absl::Milliseconds(1)) {
      return absl::InvalidArgumentError(
          "rate limits need a non-negative count and a window of at least 1ms");
    }
  }
  return std::unique_ptr<AuthService>(new AuthService(std::move(options)));
}

AuthService::AuthService(Options options) : options_(std::move(options)) {
  prometheus::Registry* registry = options_.metrics;
  if (registry == nullptr) {
    own_metrics_ = std::make_shared<prometheus::Registry>();
    registry = own_metrics_.get();
  }
  logins_ = &prometheus::BuildCounter()
                 .Name("updraft_auth_logins_total")
                 .Help("Device login attempts (GetChallenge and Login), by result.")
                 .Register(*registry);
  for (const char* r : {"ok", "bad_signature", "bad_challenge", "unknown_device", "not_accepted",
                        "pending_recorded", "rate_limited"}) {
    logins_->Add({{"result", r}});
  }
  tokens_ = &prometheus::BuildCounter()
                 .Name("updraft_auth_tokens_issued_total")
                 .Help("Access tokens issued, by audience.")
                 .Register(*registry);
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("updraft_auth_rate_limited_total")
                       .Help("Login attempts refused by a rate limit, by scope (device, source).")
                       .Register(*registry);
  operator_logins_ = &prometheus::BuildCounter()
                          .Name("updraft_auth_operator_logins_total")
                          .Help("Operator API-key logins, by result.")
                          .Register(*registry);
  next_challenges_ = &prometheus::BuildCounter()
                          .Name("updraft_auth_next_challenges_total")
                          .Help(
                              "Next challenges handed out with a login (issued), logins made "
                              "with one (used), and ones not stored (store_error).")
                          .Register(*registry);
  for (const char* r : {"issued", "used", "store_error"}) next_challenges_->Add({{"result", r}});
}

absl::Status AuthService::CheckRate(absl::string_view scope, absl::string_view id,
                                    const RateLimit& limit) {
  if (options_.rate_limiter == nullptr || limit.max_attempts == 0 || id.empty()) {
    return absl::OkStatus();
  }
  UPDRAFT_ASSIGN_OR_RETURN(absl::Duration retry,
                           options_.rate_limiter->Hit(absl::StrCat(scope, ":", id), limit));
  if (retry <= absl::ZeroDuration()) return absl::OkStatus();
  rate_limited_->Add({{"scope", std::string(scope)}}).Increment();
  logins_->Add({{"result", "rate_limited"}}).Increment();
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(retry, absl::Milliseconds(1)));
  int64_t seconds = (ms + 999) / 1000;
  absl::Status s = absl::ResourceExhaustedError(
      absl::StrCat("too many login attempts ", scope == "device" ? "for device " : "from ", id,
                   "; retry in ", seconds, " s"));
  s.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(ms)));
  return s;
}

absl::StatusOr<DeviceRecord> AuthService::GetAcceptedDevice(absl::string_view device_id) {
  auto device = options_.registry->Get(device_id);
  if (!device.ok()) {
    if (device.status().code() == absl::StatusCode::kNotFound) {
      logins_->Add({{"result", "unknown_device"}}).Increment();
      return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
    }
    return device.status();
  }
  if (device->status == DeviceStatus::kPending) {
    logins_->Add({{"result", "not_accepted"}}).Increment();
    return absl::PermissionDeniedError(
        absl::StrCat("device ", device_id, " is pending operator approval"));
  }
  if (device->status != DeviceStatus::kAccepted) {
    logins_->Add({{"result", "not_accepted"}}).Increment();
    return absl::PermissionDeniedError(absl::StrCat("device ", device_id, " is ",
                                                    DeviceStatusName(device->status),
                                                    "; only accepted devices may log in"));
  }
  return device;
}

absl::StatusOr<DeviceRecord> AuthService::RegisterPending(const ChallengeRequest& request) {
  absl::Status key = ValidatePublicKey(request.key_type, request.public_key);
  if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("public_key: ", key.message()));
  DeviceRecord device;
  device.device_id = request.device_id;
  device.key_type = request.key_type;
  device.public_key = request.public_key;
  device.status = DeviceStatus::kPending;
  device.created_at = device.updated_at = options_.clock->Now();
  AuditEntry audit;
  audit.at = device.created_at;
  audit.actor = absl::StrCat("device ", request.device_id);
  audit.action = "self_register_device";
  audit.device_id = request.device_id;
  audit.detail = absl::StrCat("status=pending key_type=", KeyTypeName(request.key_type),
                              " key=", KeyIdFor(request.public_key), " source=", request.source);
  auto stored = options_.registry->Register(device, audit);
  // Two replicas racing on the same device: the other one recorded it.
  if (stored.status().code() == absl::StatusCode::kAlreadyExists) {
    return options_.registry->Get(request.device_id);
  }
  if (stored.ok()) logins_->Add({{"result", "pending_recorded"}}).Increment();
  return stored;
}

absl::StatusOr<IssuedChallenge> AuthService::GetChallenge(const ChallengeRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(request.device_id));
  UPDRAFT_RETURN_IF_ERROR(CheckRate("source", request.source, options_.per_source));
  UPDRAFT_RETURN_IF_ERROR(CheckRate("device", request.device_id, options_.per_device));
  if (!request.public_key.empty()) {
    auto known = options_.registry->Get(request.device_id);
    if (known.status().code() == absl::StatusCode::kNotFound) {
      UPDRAFT_RETURN_IF_ERROR(RegisterPending(request).status());
    } else if (!known.ok()) {
      return known.status();
    }
  }
  UPDRAFT_ASSIGN_OR_RETURN(DeviceRecord device, GetAcceptedDevice(request.device_id));
  IssuedChallenge challenge{RandomBytes(kNonceSize),
                            options_.clock->Now() + options_.challenge_ttl};
  UPDRAFT_RETURN_IF_ERROR(
      options_.challenges->Put(challenge.nonce, device.device_id, options_.challenge_ttl));
  return challenge;
}

absl::StatusOr<DeviceLogin> AuthService::Login(const LoginRequest& request) {
  const std::string& device_id = request.device_id;
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  if (request.nonce.size() != kNonceSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nonce must be the ", kNonceSize, " bytes from GetChallenge, got ", request.nonce.size()));
  }
  if (request.signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature must be 64 bytes (Ed25519, or P-256 r || s), got ",
                     request.signature.size(), " bytes"));
  }
  UPDRAFT_RETURN_IF_ERROR(CheckRate("source", request.source, options_.per_source));
  UPDRAFT_RETURN_IF_ERROR(CheckRate("device", device_id, options_.per_device));
  UPDRAFT_ASSIGN_OR_RETURN(TakenChallenge taken,
                           options_.challenges->Take(device_id, request.nonce));
  if (taken == TakenChallenge::kNone) {
    logins_->Add({{"result", "bad_challenge"}}).Increment();
    return absl::UnauthenticatedError(kBadChallenge);
  }
  UPDRAFT_ASSIGN_OR_RETURN(DeviceRecord device, GetAcceptedDevice(device_id));
  if (!VerifySignature(device.key_type, device.public_key, LoginMessage(device_id, request.nonce),
                       request.signature)) {
    logins_->Add({{"result", "bad_signature"}}).Increment();
    return absl::UnauthenticatedError(
        absl::StrCat("signature does not verify with the registered key of device ", device_id));
  }
  DeviceLogin login;
  UPDRAFT_ASSIGN_OR_RETURN(login.token, options_.keys->Issue(device_id, kDeviceAudience));
  logins_->Add({{"result", "ok"}}).Increment();
  tokens_->Add({{"audience", std::string(kDeviceAudience)}}).Increment();
  if (taken == TakenChallenge::kNextChallenge) {
    next_challenges_->Add({{"result", "used"}}).Increment();
  }
  if (options_.next_challenge_ttl > absl::ZeroDuration()) {
    IssuedChallenge next{RandomBytes(kNonceSize),
                         options_.clock->Now() + options_.next_challenge_ttl};
    if (options_.challenges->PutNext(device_id, next.nonce, options_.next_challenge_ttl).ok()) {
      next_challenges_->Add({{"result", "issued"}}).Increment();
      login.next_challenge = std::move(next);
    } else {
      next_challenges_->Add({{"result", "store_error"}}).Increment();
    }
  }
  return login;
}

absl::StatusOr<OperatorToken> AuthService::OperatorLogin(absl::string_view api_key,
                                                         absl::string_view source) {
  UPDRAFT_RETURN_IF_ERROR(CheckRate("source", source, options_.per_source));
  std::string raw;
  if (api_key.size() > 64 || !absl::WebSafeBase64Unescape(api_key, &raw) || raw.size() != 32) {
    operator_logins_->Add({{"result", "invalid_key"}}).Increment();
    return absl::UnauthenticatedError("invalid API key");
  }
  auto key = options_.api_keys->FindByHash(Sha256(raw));
  if (key.status().code() == absl::StatusCode::kNotFound) {
    operator_logins_->Add({{"result", "invalid_key"}}).Increment();
    return absl::UnauthenticatedError("invalid API key");
  }
  if (!key.ok()) return key.status();
  if (key->revoked()) {
    operator_logins_->Add({{"result", "revoked_key"}}).Increment();
    return absl::UnauthenticatedError(absl::StrCat("API key ", key->key_id, " is revoked"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(IssuedToken token,
                           options_.keys->Issue(key->key_id, kOperatorAudience,
                                                {.role = std::string(RoleName(key->role)),
                                                 .ttl = options_.operator_token_ttl}));
  operator_logins_->Add({{"result", "ok"}}).Increment();
  tokens_->Add({{"audience", std::string(kOperatorAudience)}}).Increment();
  return OperatorToken{std::move(token), key->key_id, key->role};
}

std::vector<TokenKey> AuthService::PublicKeys() const { return options_.keys->PublicKeys(); }

}  // namespace updraft
