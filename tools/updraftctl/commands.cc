#include "tools/updraftctl/commands.h"

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
#include "common/status_util.h"

namespace updraft::ctl {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  return ctx;
}

absl::Status Require(const Args& args, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (args.Get(k).empty())
      return absl::InvalidArgumentError(absl::StrCat("--", k, " is required"));
  }
  return absl::OkStatus();
}

std::string ResultName(v1::ResultCode code) { return v1::ResultCode_Name(code); }

}  // namespace

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

absl::Status RegisterDevice(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id", "public_key"}));
  v1::RegisterDeviceRequest req;
  req.set_device_id(args.Get("device_id"));
  std::string key;
  if (!absl::WebSafeBase64Unescape(args.Get("public_key"), &key)) {
    return absl::InvalidArgumentError(
        "--public_key must be base64url (device_sim --print_public_key)");
  }
  req.set_ed25519_public_key(key);
  for (const std::string& a : args.GetAll("attribute")) {
    std::pair<std::string, std::string> kv = absl::StrSplit(a, absl::MaxSplits('=', 1));
    (*req.mutable_attributes())[kv.first] = kv.second;
  }
  v1::Device device;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.auth_admin->RegisterDevice(Context().get(), req, &device)));
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
  auto ctx = Context();
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
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(stubs.catalog->CreatePackage(Context().get(), req, &pkg)));
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
  for (const auto& s : args.GetAll("setting")) {
    std::pair<std::string, std::string> kv = absl::StrSplit(s, absl::MaxSplits('=', 1));
    (*req.mutable_settings())[kv.first] = kv.second;
  }
  v1::Release rel;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(stubs.catalog->CreateRelease(Context().get(), req, &rel)));
  std::vector<std::string> ids;
  for (const auto& e : rel.dcinfo().entries()) ids.push_back(e.dc_id());
  fprintf(out, "%s\n", rel.release_id().c_str());
  fprintf(stderr, "release %s %s created (draft) with components %s\n", rel.release_id().c_str(),
          rel.version().c_str(), absl::StrJoin(ids, ", ").c_str());
  return absl::OkStatus();
}

absl::Status Publish(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"release_id"}));
  v1::PublishReleaseRequest req;
  req.set_release_id(args.Get("release_id"));
  v1::Release rel;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.catalog->PublishRelease(Context().get(), req, &rel)));
  fprintf(out, "release %s (%s %s) published\n", rel.release_id().c_str(),
          rel.package_name().c_str(), rel.version().c_str());
  return absl::OkStatus();
}

absl::Status DeviceState(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"device_id"}));
  v1::GetDeviceStateRequest req;
  req.set_device_id(args.Get("device_id"));
  v1::DeviceState st;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(stubs.catalog->GetDeviceState(Context().get(), req, &st)));
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

}  // namespace updraft::ctl
