#include "tools/updraftctl/commands.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "common/operator_auth.h"
#include "common/status_util.h"
#include "tools/updraftctl/component_commands.h"

namespace updraft::ctl {
namespace {

absl::Status DeviceAction(const Args& args, Stubs& stubs, FILE* out, const char* verb,
                          grpc::Status (v1::AuthAdmin::StubInterface::*rpc)(
                              grpc::ClientContext*, const v1::DeviceActionRequest&, v1::Device*)) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id"}));
  v1::DeviceActionRequest req;
  req.set_device_id(args.Get("device_id"));
  req.set_reason(args.Get("reason"));
  v1::Device device;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(((*stubs.auth_admin).*rpc)(Context(stubs).get(), req, &device)));
  fprintf(out, "device %s %s (status %s)\n", device.device_id().c_str(), verb,
          device.status().c_str());
  return absl::OkStatus();
}

std::string ResultName(v1::ResultCode code) { return v1::ResultCode_Name(code); }

}  // namespace

std::unique_ptr<grpc::ClientContext> Context(const Stubs& stubs, bool deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (deadline) ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  if (!stubs.token.empty()) ctx->AddMetadata("authorization", "Bearer " + stubs.token);
  return ctx;
}

absl::Status Require(const Args& args, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (args.Get(k).empty())
      return absl::InvalidArgumentError(absl::StrCat("--", k, " is required"));
  }
  return absl::OkStatus();
}

std::string Time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

std::string Args::Get(const std::string& key) const {
  std::string v;
  for (const auto& [k, val] : options) {
    if (k == key) v = val;
  }
  return v;
}

std::vector<std::string> Args::GetAll(const std::string& key) const {
  std::vector<std::string> v;
  for (const auto& [k, val] : options) {
    if (k == key) v.push_back(val);
  }
  return v;
}

absl::Status ParseArgs(const std::vector<std::string>& raw, Args* out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& a = raw[i];
    if (!absl::StartsWith(a, "--") || a.size() < 3) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'"));
    }
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      out->options.emplace_back(a.substr(2, eq - 2), a.substr(eq + 1));
    } else if (i + 1 < raw.size()) {
      out->options.emplace_back(a.substr(2), raw[++i]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseDcFiles(const std::string& value, v1::DcEntry* entry) {
  std::pair<std::string, std::string> kv = absl::StrSplit(value, absl::MaxSplits('=', 1));
  if (kv.first.empty() || kv.second.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dc '", value, "' must look like DC_1=app.bin[,other/file]"));
  }
  entry->set_dc_id(kv.first);
  for (absl::string_view f : absl::StrSplit(kv.second, ',', absl::SkipEmpty())) {
    entry->add_files(std::string(f));
  }
  return absl::OkStatus();
}

absl::Status ParseDcTriple(const std::string& value, v1::DcEntry* entry) {
  std::vector<std::string> parts = absl::StrSplit(value, '/');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dc_triple '", value, "' must look like author/name/version"));
  }
  entry->set_author(parts[0]);
  entry->set_name(parts[1]);
  entry->set_version(parts[2]);
  return absl::OkStatus();
}

absl::Status LogIn(const std::string& api_key_file, Stubs& stubs) {
  auto key = ReadApiKeyFile(api_key_file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--api_key_file: ", key.status().message()));
  }
  v1::OperatorLoginRequest req;
  req.set_api_key(*key);
  v1::OperatorLoginResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth->OperatorLogin(Context(stubs).get(), req, &resp)));
  stubs.token = resp.access_token();
  return absl::OkStatus();
}

absl::Status RegisterDevice(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id", "public_key"}));
  v1::RegisterDeviceRequest req;
  req.set_device_id(args.Get("device_id"));
  std::string key;
  if (!absl::WebSafeBase64Unescape(args.Get("public_key"), &key)) {
    return absl::InvalidArgumentError(
        "--public_key must be base64url (device_sim --print_public_key)");
  }
  std::string type = args.Get("key_type").empty() ? "ed25519" : args.Get("key_type");
  if (type == "ed25519") {
    req.set_key_type(v1::KEY_TYPE_ED25519);
  } else if (type == "ecdsa-p256") {
    req.set_key_type(v1::KEY_TYPE_ECDSA_P256);
  } else {
    return absl::InvalidArgumentError("--key_type must be ed25519 or ecdsa-p256");
  }
  req.set_public_key(key);
  for (const std::string& a : args.GetAll("attribute")) {
    std::pair<std::string, std::string> kv = absl::StrSplit(a, absl::MaxSplits('=', 1));
    (*req.mutable_attributes())[kv.first] = kv.second;
  }
  v1::Device device;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->RegisterDevice(Context(stubs).get(), req, &device)));
  fprintf(out, "device %s registered (%s)\n", device.device_id().c_str(), device.status().c_str());
  return absl::OkStatus();
}

absl::Status Upload(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"file"}));
  std::ifstream in(args.Get("file"), std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", args.Get("file")));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  v1::UploadRequest header;
  header.mutable_header()->set_size(static_cast<int64_t>(data.size()));
  header.mutable_header()->set_sha256(Sha256Hex(data));
  uint32_t chunk_size = 0;
  if (!args.Get("chunk_size").empty() && !absl::SimpleAtoi(args.Get("chunk_size"), &chunk_size)) {
    return absl::InvalidArgumentError("--chunk_size must be a number of bytes");
  }
  header.mutable_header()->set_chunk_size(chunk_size);
  auto ctx = Context(stubs);
  v1::ArtifactManifest manifest;
  auto writer = stubs.download->Upload(ctx.get(), &manifest);
  bool ok = writer->Write(header);
  constexpr size_t kPiece = 256 << 10;
  for (size_t off = 0; ok && off < data.size(); off += kPiece) {
    v1::UploadRequest part;
    part.set_data(data.substr(off, kPiece));
    ok = writer->Write(part);
  }
  writer->WritesDone();
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(writer->Finish()));
  fprintf(out, "uploaded %s: %lld bytes, %d chunks of %u bytes, files: %s\n",
          manifest.sha256().c_str(), static_cast<long long>(manifest.size()),
          manifest.chunk_sha256_size(), manifest.chunk_size(),
          absl::StrJoin(manifest.files(), ", ").c_str());
  return absl::OkStatus();
}

absl::Status CreatePackage(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"name", "author"}));
  v1::CreatePackageRequest req;
  req.set_name(args.Get("name"));
  req.set_author(args.Get("author"));
  req.set_description(args.Get("description"));
  v1::Package pkg;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->CreatePackage(Context(stubs).get(), req, &pkg)));
  fprintf(out, "%s\n", pkg.package_id().c_str());
  return absl::OkStatus();
}

absl::Status CreateRelease(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"package_id", "version", "artifact_sha256"}));
  v1::CreateReleaseRequest req;
  req.set_package_id(args.Get("package_id"));
  req.set_version(args.Get("version"));
  req.set_artifact_sha256(args.Get("artifact_sha256"));
  auto dcs = args.GetAll("dc");
  auto triples = args.GetAll("dc_triple");
  if (!dcs.empty() && !triples.empty()) {
    return absl::InvalidArgumentError("give either --dc (variant A) or --dc_triple (variant B)");
  }
  req.mutable_dcinfo()->set_variant(dcs.empty() ? v1::DcInfo::TRIPLES : v1::DcInfo::FILES);
  for (const auto& d : dcs)
    UPDRAFT_RETURN_IF_ERROR(ParseDcFiles(d, req.mutable_dcinfo()->add_entries()));
  for (const auto& t : triples) {
    UPDRAFT_RETURN_IF_ERROR(ParseDcTriple(t, req.mutable_dcinfo()->add_entries()));
  }
  for (const auto& m : args.GetAll("model")) req.mutable_compatibility()->add_models(m);
  for (const auto& k : args.GetAll("carrier")) req.mutable_compatibility()->add_carriers(k);
  req.mutable_compatibility()->set_min_os_version(args.Get("min_os_version"));
  req.mutable_compatibility()->set_max_os_version(args.Get("max_os_version"));
  for (const auto& s : args.GetAll("setting")) {
    std::pair<std::string, std::string> kv = absl::StrSplit(s, absl::MaxSplits('=', 1));
    (*req.mutable_settings())[kv.first] = kv.second;
  }
  for (const auto& g : args.GetAll("group_setting")) {
    UPDRAFT_RETURN_IF_ERROR(ParseGroupSetting(g, &req));
  }
  v1::Release rel;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->CreateRelease(Context(stubs).get(), req, &rel)));
  std::vector<std::string> ids;
  for (const auto& e : rel.dcinfo().entries()) ids.push_back(e.dc_id());
  fprintf(out, "%s\n", rel.release_id().c_str());
  fprintf(stderr, "release %s %s created (draft) with components %s\n", rel.release_id().c_str(),
          rel.version().c_str(), absl::StrJoin(ids, ", ").c_str());
  return absl::OkStatus();
}

absl::Status Withdraw(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"release_id"}));
  v1::WithdrawReleaseRequest req;
  req.set_release_id(args.Get("release_id"));
  v1::Release rel;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->WithdrawRelease(Context(stubs).get(), req, &rel)));
  fprintf(out, "release %s (%s %s) withdrawn: no longer offered\n", rel.release_id().c_str(),
          rel.package_name().c_str(), rel.version().c_str());
  return absl::OkStatus();
}

absl::Status DeviceState(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id"}));
  v1::GetDeviceStateRequest req;
  req.set_device_id(args.Get("device_id"));
  v1::DeviceState st;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->GetDeviceState(Context(stubs).get(), req, &st)));
  fprintf(out, "device %s\n  Deployed components:\n", st.device_id().c_str());
  fprintf(out, "    %-12s %-20s %-16s %-10s %-22s %s\n", "ID", "AUTHOR", "NAME", "VERSION",
          "PKG (release)", "STATE");
  for (const auto& c : st.deployed()) {
    fprintf(out, "    %-12s %-20s %-16s %-10s %-22s %s\n", c.dc_id().c_str(), c.author().c_str(),
            c.name().c_str(), c.version().c_str(), c.release_id().c_str(),
            v1::ComponentState_Name(c.state()).c_str());
  }
  fprintf(out, "  Results:\n");
  for (const auto& r : st.history()) {
    fprintf(out, "    %s  %-22s %d %s  %s\n",
            absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(r.reported_at_unix()),
                             absl::UTCTimeZone())
                .c_str(),
            r.release_id().c_str(), static_cast<int>(r.result()), ResultName(r.result()).c_str(),
            r.message().c_str());
  }
  return absl::OkStatus();
}

absl::Status ListDevices(const Args& args, Stubs& stubs, FILE* out) {
  v1::ListDevicesRequest req;
  req.set_status(args.Get("status"));
  req.set_after_device_id(args.Get("after"));
  if (!args.Get("limit").empty()) {
    int limit = 0;
    if (!absl::SimpleAtoi(args.Get("limit"), &limit)) {
      return absl::InvalidArgumentError("--limit must be a number");
    }
    req.set_limit(limit);
  }
  v1::ListDevicesResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->ListDevices(Context(stubs).get(), req, &resp)));
  fprintf(out, "%-32s %-10s %-11s %-19s %s\n", "DEVICE", "STATUS", "KEY", "UPDATED", "ATTRIBUTES");
  for (const v1::Device& d : resp.devices()) {
    std::vector<std::string> attrs;
    for (const auto& [k, v] : d.attributes()) attrs.push_back(absl::StrCat(k, "=", v));
    std::sort(attrs.begin(), attrs.end());
    fprintf(out, "%-32s %-10s %-11s %-19s %s\n", d.device_id().c_str(), d.status().c_str(),
            d.key_type() == v1::KEY_TYPE_ECDSA_P256 ? "ecdsa-p256" : "ed25519",
            Time(d.updated_at_unix()).c_str(), absl::StrJoin(attrs, " ").c_str());
  }
  if (!resp.next_after_device_id().empty()) {
    fprintf(out, "more: --after=%s\n", resp.next_after_device_id().c_str());
  }
  return absl::OkStatus();
}

absl::Status ImportDevices(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"file"}));
  std::ifstream in(args.Get("file"), std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", args.Get("file")));
  v1::ImportDevicesRequest req;
  req.set_csv(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  v1::ImportDevicesResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->ImportDevices(Context(stubs).get(), req, &resp)));
  fprintf(out, "imported %lld devices from %s\n", static_cast<long long>(resp.imported()),
          args.Get("file").c_str());
  return absl::OkStatus();
}

absl::Status AcceptDevice(const Args& args, Stubs& stubs, FILE* out) {
  return DeviceAction(args, stubs, out, "accepted", &v1::AuthAdmin::StubInterface::AcceptDevice);
}

absl::Status RejectDevice(const Args& args, Stubs& stubs, FILE* out) {
  return DeviceAction(args, stubs, out, "rejected", &v1::AuthAdmin::StubInterface::RejectDevice);
}

absl::Status RevokeDevice(const Args& args, Stubs& stubs, FILE* out) {
  return DeviceAction(args, stubs, out, "revoked", &v1::AuthAdmin::StubInterface::RevokeDevice);
}

absl::Status RevokeToken(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"token_id"}));
  v1::RevokeTokenRequest req;
  req.set_token_id(args.Get("token_id"));
  req.set_reason(args.Get("reason"));
  v1::RevokeTokenResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->RevokeToken(Context(stubs).get(), req, &resp)));
  fprintf(out, "token %s revoked (remembered until %s UTC)\n", req.token_id().c_str(),
          Time(resp.remembered_until_unix()).c_str());
  return absl::OkStatus();
}

absl::Status CreateApiKey(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"name", "role"}));
  v1::CreateApiKeyRequest req;
  req.set_name(args.Get("name"));
  req.set_role(args.Get("role"));
  v1::CreateApiKeyResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->CreateApiKey(Context(stubs).get(), req, &resp)));
  const std::string& path = args.Get("out");
  if (!path.empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(resp.api_key(), &raw)) {
      return absl::InternalError("auth answered a malformed API key");
    }
    absl::Status written = WriteKeyFile(path, raw);
    if (!written.ok()) {
      return absl::Status(
          written.code(),
          absl::StrCat("API key ", resp.key().key_id(),
                       " was created but could not be saved (revoke it): ", written.message()));
    }
    fprintf(out, "API key %s (%s, role %s) written to %s\n", resp.key().key_id().c_str(),
            resp.key().name().c_str(), resp.key().role().c_str(), path.c_str());
    return absl::OkStatus();
  }
  fprintf(out, "%s\n", resp.api_key().c_str());
  fprintf(stderr,
          "API key %s (%s, role %s) created; it is shown this once, store it now "
          "(or use --out=PATH)\n",
          resp.key().key_id().c_str(), resp.key().name().c_str(), resp.key().role().c_str());
  return absl::OkStatus();
}

absl::Status RevokeApiKey(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"key_id"}));
  v1::RevokeApiKeyRequest req;
  req.set_key_id(args.Get("key_id"));
  v1::ApiKey key;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->RevokeApiKey(Context(stubs).get(), req, &key)));
  fprintf(out, "API key %s (%s) revoked\n", key.key_id().c_str(), key.name().c_str());
  return absl::OkStatus();
}

absl::Status ListApiKeys(const Args&, Stubs& stubs, FILE* out) {
  v1::ListApiKeysResponse resp;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(
      stubs.auth_admin->ListApiKeys(Context(stubs).get(), v1::ListApiKeysRequest(), &resp)));
  fprintf(out, "%-20s %-20s %-10s %-19s %-19s %s\n", "KEY ID", "NAME", "ROLE", "CREATED", "REVOKED",
          "CREATED BY");
  for (const v1::ApiKey& k : resp.keys()) {
    fprintf(out, "%-20s %-20s %-10s %-19s %-19s %s\n", k.key_id().c_str(), k.name().c_str(),
            k.role().c_str(), Time(k.created_at_unix()).c_str(), Time(k.revoked_at_unix()).c_str(),
            k.created_by().c_str());
  }
  return absl::OkStatus();
}

absl::Status RotateSigningKey(const Args&, Stubs& stubs, FILE* out) {
  v1::RotateSigningKeyResponse resp;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(stubs.auth_admin->RotateSigningKey(
      Context(stubs).get(), v1::RotateSigningKeyRequest(), &resp)));
  fprintf(out,
          "new token signing key %s, used from %s UTC; tokens of older keys stay valid "
          "until they expire\n",
          resp.key_id().c_str(), Time(resp.active_from_unix()).c_str());
  return absl::OkStatus();
}

absl::Status Audit(const Args& args, Stubs& stubs, FILE* out) {
  v1::ListAuditEntriesRequest req;
  req.set_device_id(args.Get("device_id"));
  if (!args.Get("limit").empty()) {
    int limit = 0;
    if (!absl::SimpleAtoi(args.Get("limit"), &limit)) {
      return absl::InvalidArgumentError("--limit must be a number");
    }
    req.set_limit(limit);
  }
  if (!args.Get("before").empty()) {
    int64_t before = 0;
    if (!absl::SimpleAtoi(args.Get("before"), &before)) {
      return absl::InvalidArgumentError("--before must be an audit entry ID");
    }
    req.set_before_id(before);
  }
  v1::ListAuditEntriesResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->ListAuditEntries(Context(stubs).get(), req, &resp)));
  fprintf(out, "%-6s %-19s %-38s %-20s %-24s %s\n", "ID", "WHEN (UTC)", "WHO", "WHAT", "DEVICE",
          "DETAIL");
  for (const v1::AuditEntry& e : resp.entries()) {
    fprintf(out, "%-6lld %-19s %-38s %-20s %-24s %s\n", static_cast<long long>(e.id()),
            Time(e.at_unix()).c_str(), e.actor().c_str(), e.action().c_str(),
            e.device_id().empty() ? "-" : e.device_id().c_str(), e.detail().c_str());
  }
  return absl::OkStatus();
}

}  // namespace updraft::ctl
