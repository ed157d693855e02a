#include "services/auth/admin_service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/login_format.h"
#include "common/status_util.h"
#include "services/auth/device_csv.h"
#include "services/auth/device_validation.h"

namespace updraft {
namespace {

constexpr size_t kMaxReasonLength = 512;
constexpr int kMaxListLimit = 1000;

absl::StatusOr<int> ListLimit(int limit) {
  if (limit == 0) return 100;
  if (limit < 0 || limit > kMaxListLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be 1..", kMaxListLimit, " (0 means 100), got ", limit));
  }
  return limit;
}

absl::Status ValidateReason(absl::string_view reason) {
  if (reason.size() > kMaxReasonLength || !IsValidUtf8(reason) ||
      reason.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason must be UTF-8 text of at most ", kMaxReasonLength, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateName(absl::string_view field, absl::string_view value) {
  if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), IsIdChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", absl::CEscape(value), "' must be 1..64 characters of [A-Za-z0-9._:-]"));
  }
  return absl::OkStatus();
}

std::string WithReason(std::string detail, absl::string_view reason) {
  if (!reason.empty()) absl::StrAppend(&detail, detail.empty() ? "" : " ", "reason=", reason);
  return detail;
}

// An API key record for `raw` (32 bytes), or for a new random key.
CreatedApiKey NewApiKey(absl::string_view name, Role role, absl::Time now,
                        std::string raw = RandomBytes(32)) {
  CreatedApiKey key;
  key.record.key_id = absl::StrCat("ak_", absl::BytesToHexString(RandomBytes(8)));
  key.record.name = std::string(name);
  key.record.role = role;
  key.record.key_hash = Sha256(raw);
  key.record.created_at = now;
  key.api_key = absl::WebSafeBase64Escape(raw);
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminService>> AdminService::Create(Options options) {
  if (options.registry == nullptr || options.api_keys == nullptr || options.audit == nullptr ||
      options.keys == nullptr || options.revocations == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "AdminService needs a device registry, an API key store, an audit log, a key ring, a "
        "revocation publisher and a clock");
  }
  return std::unique_ptr<AdminService>(new AdminService(std::move(options)));
}

std::string AdminService::Actor(const OperatorIdentity& who) {
  auto key = options_.api_keys->Get(who.key_id);
  if (!key.ok()) return who.key_id;
  return absl::StrCat(key->name, " (", who.key_id, ")");
}

AuditEntry AdminService::Audit(const OperatorIdentity& who, absl::string_view action,
                               absl::string_view device_id, std::string detail) {
  AuditEntry e;
  e.at = options_.clock->Now();
  e.actor = Actor(who);
  e.action = std::string(action);
  e.device_id = std::string(device_id);
  e.detail = std::move(detail);
  return e;
}

absl::StatusOr<DeviceRecord> AdminService::RegisterDevice(
    const OperatorIdentity& who, absl::string_view device_id, KeyType key_type,
    absl::string_view public_key, const std::map<std::string, std::string>& attributes) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  absl::Status key = ValidatePublicKey(key_type, public_key);
  if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("public_key: ", key.message()));
  UPDRAFT_RETURN_IF_ERROR(ValidateAttributes(attributes));
  DeviceRecord device;
  device.device_id = std::string(device_id);
  device.key_type = key_type;
  device.public_key = std::string(public_key);
  device.status = DeviceStatus::kAccepted;
  device.attributes = attributes;
  device.created_at = device.updated_at = options_.clock->Now();
  return options_.registry->Register(
      device, Audit(who, "register_device", device_id,
                    absl::StrCat("status=accepted key_type=", KeyTypeName(key_type),
                                 " key=", KeyIdFor(public_key))));
}

absl::StatusOr<DeviceRecord> AdminService::GetDevice(absl::string_view device_id) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  return options_.registry->Get(device_id);
}

absl::StatusOr<std::vector<DeviceRecord>> AdminService::ListDevices(
    absl::string_view status, absl::string_view after_device_id, int limit) {
  DeviceQuery query;
  if (!status.empty()) {
    UPDRAFT_ASSIGN_OR_RETURN(DeviceStatus s, ParseDeviceStatus(status));
    query.status = s;
  }
  if (!after_device_id.empty()) UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(after_device_id));
  query.after_device_id = std::string(after_device_id);
  UPDRAFT_ASSIGN_OR_RETURN(query.limit, ListLimit(limit));
  return options_.registry->List(query);
}

absl::StatusOr<int64_t> AdminService::ImportDevices(const OperatorIdentity& who,
                                                    absl::string_view csv) {
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<CsvDevice> rows,
                           ParseDeviceCsv(csv, options_.max_import_rows));
  absl::Time now = options_.clock->Now();
  std::vector<DeviceRecord> devices;
  devices.reserve(rows.size());
  for (CsvDevice& r : rows) {
    r.device.created_at = r.device.updated_at = now;
    devices.push_back(r.device);
  }
  size_t conflict = rows.size();
  absl::Status s = options_.registry->Import(
      devices, Audit(who, "import_device", "", absl::StrCat("rows=", devices.size())), &conflict);
  if (s.code() == absl::StatusCode::kAlreadyExists && conflict < rows.size()) {
    return absl::AlreadyExistsError(absl::StrCat("row ", rows[conflict].row, ": device ",
                                                 rows[conflict].device.device_id,
                                                 " is already registered; nothing imported"));
  }
  UPDRAFT_RETURN_IF_ERROR(s);
  if (options_.logger != nullptr) {
    options_.logger->Info("devices imported",
                          {{"count", absl::StrCat(devices.size())}, {"operator", who.key_id}});
  }
  return static_cast<int64_t>(devices.size());
}

absl::StatusOr<DeviceRecord> AdminService::Transition(const OperatorIdentity& who,
                                                      absl::string_view device_id,
                                                      const std::vector<DeviceStatus>& from,
                                                      DeviceStatus to, absl::string_view action,
                                                      absl::string_view reason) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  UPDRAFT_RETURN_IF_ERROR(ValidateReason(reason));
  return options_.registry->Transition(
      device_id, from, to,
      Audit(who, action, device_id,
            WithReason(absl::StrCat("status=", DeviceStatusName(to)), reason)));
}

absl::StatusOr<DeviceRecord> AdminService::AcceptDevice(const OperatorIdentity& who,
                                                        absl::string_view device_id,
                                                        absl::string_view reason) {
  return Transition(who, device_id,
                    {DeviceStatus::kPending, DeviceStatus::kRejected, DeviceStatus::kRevoked},
                    DeviceStatus::kAccepted, "accept_device", reason);
}

absl::StatusOr<DeviceRecord> AdminService::RejectDevice(const OperatorIdentity& who,
                                                        absl::string_view device_id,
                                                        absl::string_view reason) {
  return Transition(who, device_id, {DeviceStatus::kPending}, DeviceStatus::kRejected,
                    "reject_device", reason);
}

absl::Status AdminService::PublishSubject(absl::string_view audience, absl::string_view id,
                                          absl::Time at) {
  absl::Status s =
      options_.revocations->Publish({Revocation::Kind::kSubject, std::string(audience),
                                     std::string(id), at, at + options_.keys->max_token_ttl()});
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("revoked in the database, but the revocation could not be published (",
                     s.message(), "); revoke again to publish it"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DeviceRecord> AdminService::RevokeDevice(const OperatorIdentity& who,
                                                        absl::string_view device_id,
                                                        absl::string_view reason) {
  UPDRAFT_ASSIGN_OR_RETURN(DeviceRecord device,
                           Transition(who, device_id,
                                      {DeviceStatus::kPending, DeviceStatus::kAccepted,
                                       DeviceStatus::kRejected, DeviceStatus::kRevoked},
                                      DeviceStatus::kRevoked, "revoke_device", reason));
  UPDRAFT_RETURN_IF_ERROR(PublishSubject(kDeviceAudience, device_id, device.updated_at));
  return device;
}

absl::StatusOr<absl::Time> AdminService::RevokeToken(const OperatorIdentity& who,
                                                     absl::string_view token_id,
                                                     absl::string_view reason) {
  if (token_id.empty() || token_id.size() > 64 ||
      !std::all_of(token_id.begin(), token_id.end(),
                   [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); })) {
    return absl::InvalidArgumentError("token_id must be the hex token_id claim of a token");
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateReason(reason));
  AuditEntry audit =
      Audit(who, "revoke_token", "", WithReason(absl::StrCat("token_id=", token_id), reason));
  UPDRAFT_RETURN_IF_ERROR(options_.audit->Append(audit));
  absl::Time until = audit.at + options_.keys->max_token_ttl();
  absl::Status s = options_.revocations->Publish(
      {Revocation::Kind::kToken, "", std::string(token_id), audit.at, until});
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the token revocation could not be published (", s.message(), "); try again"));
  }
  return until;
}

absl::StatusOr<CreatedApiKey> AdminService::CreateApiKey(const OperatorIdentity& who,
                                                         absl::string_view name,
                                                         absl::string_view role) {
  UPDRAFT_RETURN_IF_ERROR(ValidateName("name", name));
  UPDRAFT_ASSIGN_OR_RETURN(Role parsed, ParseRole(role));
  CreatedApiKey key = NewApiKey(name, parsed, options_.clock->Now());
  key.record.created_by = who.key_id;
  UPDRAFT_RETURN_IF_ERROR(options_.api_keys->Create(
      key.record, Audit(who, "create_api_key", "",
                        absl::StrCat("key_id=", key.record.key_id, " name=", name,
                                     " role=", RoleName(parsed)))));
  return key;
}

absl::StatusOr<ApiKeyRecord> AdminService::RevokeApiKey(const OperatorIdentity& who,
                                                        absl::string_view key_id) {
  UPDRAFT_RETURN_IF_ERROR(ValidateName("key_id", key_id));
  UPDRAFT_ASSIGN_OR_RETURN(
      ApiKeyRecord key, options_.api_keys->Revoke(key_id, Audit(who, "revoke_api_key", "",
                                                                absl::StrCat("key_id=", key_id))));
  UPDRAFT_RETURN_IF_ERROR(PublishSubject(kOperatorAudience, key_id, options_.clock->Now()));
  return key;
}

absl::StatusOr<std::vector<ApiKeyRecord>> AdminService::ListApiKeys() {
  return options_.api_keys->List();
}

absl::StatusOr<StoredSigningKey> AdminService::RotateSigningKey(const OperatorIdentity& who) {
  return options_.keys->Rotate(Actor(who));
}

absl::StatusOr<std::vector<AuditEntry>> AdminService::ListAudit(absl::string_view device_id,
                                                                int64_t before_id, int limit) {
  if (!device_id.empty()) UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  if (before_id < 0) return absl::InvalidArgumentError("before_id must not be negative");
  AuditQuery query;
  query.device_id = std::string(device_id);
  query.before_id = before_id;
  UPDRAFT_ASSIGN_OR_RETURN(query.limit, ListLimit(limit));
  return options_.audit->List(query);
}

namespace {

// What the bootstrap key file holds.
struct BootstrapFile {
  bool present = false;
  std::string raw;  // the key, when the file holds one
};

absl::StatusOr<BootstrapFile> ReadBootstrapFile(const std::string& path) {
  BootstrapFile file;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return file;
    return absl::FailedPreconditionError(absl::StrCat("cannot access ", path));
  }
  file.present = true;
  auto text = ReadApiKeyFile(path);
  if (text.ok() && !absl::WebSafeBase64Unescape(*text, &file.raw)) file.raw.clear();
  return file;
}

// An exclusive flock on `path`, held while it lives, so that replicas
// sharing a writable bootstrap file do not both write one. Without a lock
// file (a read-only directory) nothing can be written anyway.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<bool> AdminService::EnsureBootstrapAdminKey(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("bootstrap admin key file path is empty");
  // The file is written before the key is stored, never after: a process
  // killed in between leaves a file whose key the next start registers,
  // not a stored admin key that nobody holds.
  for (int attempt = 0; attempt < 2; ++attempt) {
    UPDRAFT_ASSIGN_OR_RETURN(BootstrapFile file, ReadBootstrapFile(path));
    if (!file.raw.empty()) {
      auto key = options_.api_keys->FindByHash(Sha256(file.raw));
      if (key.ok() && !key->revoked()) return false;
      if (!key.ok() && key.status().code() != absl::StatusCode::kNotFound) return key.status();
      // A key made by the operator (e.g. a Kubernetes Secret), or one
      // written by a start that died before storing it.
      if (!key.ok()) return RegisterBootstrapKey(path, file.raw, /*generated=*/false);
    }
    // Missing, unreadable or revoked: write a new key, under the lock, after
    // reading the file again (another replica may have written it).
    FileLock lock(path + ".lock");
    UPDRAFT_ASSIGN_OR_RETURN(BootstrapFile again, ReadBootstrapFile(path));
    if (again.present != file.present || again.raw != file.raw) continue;
    const std::string raw = RandomBytes(32);
    UPDRAFT_RETURN_IF_ERROR(WriteKeyFile(path, raw));
    return RegisterBootstrapKey(path, raw, /*generated=*/true);
  }
  return absl::AbortedError(absl::StrCat(path, " keeps changing; start auth again"));
}

absl::StatusOr<bool> AdminService::RegisterBootstrapKey(const std::string& path,
                                                        const std::string& raw, bool generated) {
  const absl::Time now = options_.clock->Now();
  CreatedApiKey key = NewApiKey("bootstrap-admin", Role::kAdmin, now, raw);
  key.record.created_by = "bootstrap";
  AuditEntry audit;
  audit.at = now;
  audit.actor = "bootstrap";
  audit.action = "create_api_key";
  audit.detail = absl::StrCat("key_id=", key.record.key_id, " name=bootstrap-admin role=admin");
  absl::Status created = options_.api_keys->CreateFirstAdmin(key.record, audit);
  if (created.code() == absl::StatusCode::kFailedPrecondition) {
    // Another replica registered this very key meanwhile: nothing to do.
    auto stored = options_.api_keys->FindByHash(Sha256(raw));
    if (stored.ok() && !stored->revoked()) return false;
    // Admin keys exist: a generated key that nobody can use is not kept.
    if (generated) unlink(path.c_str());
    if (options_.logger != nullptr) {
      options_.logger->Warning(
          "admin API keys exist and the bootstrap file holds none of them; not creating another",
          {{"path", path}});
    }
    return false;
  }
  // Any other error keeps the file: the key may have been stored with the
  // answer lost, and the next start registers it or finds it stored.
  UPDRAFT_RETURN_IF_ERROR(created);
  if (options_.logger != nullptr) {
    options_.logger->Warning(
        generated ? "created the bootstrap admin API key"
                  : "registered the key in the bootstrap file as the first admin key",
        {{"path", path}, {"key_id", key.record.key_id}});
  }
  return true;
}

}  // namespace updraft
