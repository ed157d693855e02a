#include "tests/platform.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "common/token.h"
#include "sdk/device/test_util.h"

namespace updraft::e2e {
namespace {

constexpr absl::Duration kRpcTimeout = absl::Seconds(30);

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

std::string Loopback(int port) { return absl::StrCat("127.0.0.1:", port); }

// Runs a unary RPC with a deadline; the answer or the RPC's status.
template <typename Response, typename Rpc>
absl::StatusOr<Response> Call(Rpc rpc, const std::string& token = "") {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  if (!token.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  Response response;
  grpc::Status s = rpc(&ctx, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

// Runs a management RPC with the operator's token.
template <typename Response, typename Rpc>
absl::StatusOr<Response> ManagementCall(OperatorTokenSource& op, Rpc rpc) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  UPDRAFT_RETURN_IF_ERROR(op.Authorize(&ctx));
  Response response;
  grpc::Status s = rpc(&ctx, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Platform>> Platform::Start(Options options) {
  std::unique_ptr<Platform> p(new Platform());
  UPDRAFT_ASSIGN_OR_RETURN(p->env_, TestEnv::Create());
  p->logger_ = std::make_unique<Logger>("e2e", &p->clock_, stderr, Logger::Level::kWarning);
  p->dir_ = device::testutil::NewTempDir("platform");
  p->artifact_root_ = absl::StrCat(p->dir_, "/artifacts");

  AuthServer::Options auth;
  auth.listen_address = "127.0.0.1:0";
  auth.metrics_listen = "";
  auth.pg_uri = p->env_->pg_uri();
  auth.redis_host = p->env_->redis_options().host;
  auth.redis_port = p->env_->redis_options().port;
  auth.redis_key_prefix = p->env_->redis_prefix();
  auth.signing_key_file = absl::StrCat(p->dir_, "/token_signing.key");
  auth.token_ttl = kTokenTtl;
  auth.bootstrap_admin_key_file = absl::StrCat(p->dir_, "/admin.key");
  auth.clock = &p->clock_;
  auth.logger = p->logger_.get();
  UPDRAFT_ASSIGN_OR_RETURN(p->auth_server_, AuthServer::Create(std::move(auth)));
  p->auth_address_ = Loopback(p->auth_server_->port());
  UPDRAFT_ASSIGN_OR_RETURN(std::string admin_key,
                           ReadApiKeyFile(absl::StrCat(p->dir_, "/admin.key")));
  p->operator_ = std::make_unique<OperatorTokenSource>(v1::Auth::NewStub(Channel(p->auth_address_)),
                                                       admin_key, &p->clock_);
  // The catalog's own viewer key, for Download.GetManifest.
  std::string catalog_key_file = absl::StrCat(p->dir_, "/catalog.key");
  UPDRAFT_RETURN_IF_ERROR(p->CreateApiKeyFile("catalog", "viewer", catalog_key_file).status());

  download::DownloadServer::Options download;
  download.listen_address = "127.0.0.1:0";
  download.metrics_listen = "";
  download.artifact_root = p->artifact_root_;
  download.auth_address = p->auth_address_;
  download.redis = p->env_->redis_options();
  download.redis_key_prefix = p->env_->redis_prefix();
  download.clock = &p->clock_;
  download.logger = p->logger_.get();
  UPDRAFT_ASSIGN_OR_RETURN(p->download_server_,
                           download::DownloadServer::Create(std::move(download)));
  p->download_address_ = Loopback(p->download_server_->port());

  catalog::CatalogServer::Options catalog;
  catalog.listen_address = "127.0.0.1:0";
  catalog.metrics_listen = "";
  catalog.pg_uri = p->env_->pg_uri();
  catalog.download_address = p->download_address_;
  catalog.auth_address = p->auth_address_;
  catalog.redis = p->env_->redis_options();
  catalog.redis_key_prefix = p->env_->redis_prefix();
  catalog.api_key_file = catalog_key_file;
  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair publisher, Ed25519KeyPair::Generate());
  p->publisher_key_ = std::move(publisher);
  catalog.publisher_keys_file = absl::StrCat(p->dir_, "/publisher_keys");
  {
    std::ofstream keys(catalog.publisher_keys_file);
    keys << absl::WebSafeBase64Escape(p->publisher_key_->public_key()) << "\n";
    if (!keys) return absl::InternalError("cannot write the publisher key file");
  }
  catalog.public_http_base = options.public_http_base;
  catalog.clock = &p->clock_;
  catalog.logger = p->logger_.get();
  UPDRAFT_ASSIGN_OR_RETURN(p->catalog_server_, catalog::CatalogServer::Create(std::move(catalog)));
  p->catalog_address_ = Loopback(p->catalog_server_->port());

  notifier::NotifierServer::Options notifier;
  notifier.listen_address = "127.0.0.1:0";
  notifier.metrics_listen = "";
  notifier.redis = p->env_->redis_options();
  notifier.pg_uri = p->env_->pg_uri();
  notifier.auth_address = p->auth_address_;
  notifier.redis_key_prefix = p->env_->redis_prefix();
  notifier.clock = &p->clock_;
  notifier.logger = p->logger_.get();
  UPDRAFT_ASSIGN_OR_RETURN(p->notifier_, notifier::NotifierServer::Create(std::move(notifier)));
  p->notifier_address_ = Loopback(p->notifier_->port());

  auto auth_channel = Channel(p->auth_address_);
  auto catalog_channel = Channel(p->catalog_address_);
  p->auth_ = v1::Auth::NewStub(auth_channel);
  p->auth_admin_ = v1::AuthAdmin::NewStub(auth_channel);
  p->catalog_admin_ = v1::CatalogAdmin::NewStub(catalog_channel);
  p->device_catalog_ = v1::DeviceCatalog::NewStub(catalog_channel);
  p->download_ = v1::Download::NewStub(Channel(p->download_address_));
  p->notifier_api_ = v1::Notifier::NewStub(Channel(p->notifier_address_));
  return p;
}

Platform::~Platform() {
  // Streams first, then the servers that depend on others, then the data.
  if (notifier_) notifier_->Shutdown();
  if (catalog_server_) catalog_server_->Shutdown(absl::ZeroDuration());
  if (download_server_) download_server_->Shutdown(absl::ZeroDuration());
  if (auth_server_) auth_server_->Shutdown(absl::ZeroDuration());
  notifier_.reset();
  catalog_server_.reset();
  download_server_.reset();
  auth_server_.reset();
  env_.reset();
}

std::vector<std::string> Platform::CatalogProcessFlags() {
  return {"--listen=127.0.0.1:0",
          "--metrics_listen=",
          absl::StrCat("--pg_uri=", env_->pg_uri()),
          absl::StrCat("--download_address=", download_address_),
          absl::StrCat("--auth_address=", auth_address_),
          absl::StrCat("--redis=", env_->redis_options().host, ":", env_->redis_options().port),
          absl::StrCat("--redis_key_prefix=", env_->redis_prefix())};
}

std::vector<std::string> Platform::NotifierProcessFlags(const std::string& notification_key_file) {
  return {"--listen=127.0.0.1:0",
          "--metrics_listen=",
          absl::StrCat("--pg_uri=", env_->pg_uri()),
          absl::StrCat("--redis=", env_->redis_options().host, ":", env_->redis_options().port),
          absl::StrCat("--redis_key_prefix=", env_->redis_prefix()),
          absl::StrCat("--auth_address=", auth_address_),
          absl::StrCat("--notification_key_file=", notification_key_file)};
}

std::vector<std::string> Platform::DownloadProcessFlags(const std::string& artifact_root) {
  return {"--listen=127.0.0.1:0",
          "--metrics_listen=",
          absl::StrCat("--artifact_root=", artifact_root),
          absl::StrCat("--auth_address=", auth_address_),
          absl::StrCat("--redis=", env_->redis_options().host, ":", env_->redis_options().port),
          absl::StrCat("--redis_key_prefix=", env_->redis_prefix())};
}

std::string Platform::ArtifactObjectPath(const std::string& sha256) const {
  return absl::StrCat(artifact_root_, "/objects/", sha256);
}

absl::Status Platform::RegisterDevice(const std::string& device_id, const std::string& public_key) {
  v1::RegisterDeviceRequest request;
  request.set_device_id(device_id);
  request.set_ed25519_public_key(public_key);
  return ManagementCall<v1::Device>(*operator_,
                                    [&](grpc::ClientContext* ctx, v1::Device* out) {
                                      return auth_admin_->RegisterDevice(ctx, request, out);
                                    })
      .status();
}

absl::StatusOr<v1::ArtifactManifest> Platform::Upload(const std::string& data,
                                                      uint32_t chunk_size) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  UPDRAFT_RETURN_IF_ERROR(operator_->Authorize(&ctx));
  v1::ArtifactManifest manifest;
  std::unique_ptr<grpc::ClientWriterInterface<v1::UploadRequest>> writer =
      download_->Upload(&ctx, &manifest);
  v1::UploadRequest header;
  header.mutable_header()->set_size(static_cast<int64_t>(data.size()));
  header.mutable_header()->set_sha256(Sha256Hex(data));
  header.mutable_header()->set_chunk_size(chunk_size);
  bool sent = writer->Write(header);
  // Several messages, so the server assembles the artifact from pieces.
  constexpr size_t kPiece = 5000;
  for (size_t off = 0; sent && off < data.size(); off += kPiece) {
    v1::UploadRequest piece;
    piece.set_data(data.substr(off, kPiece));
    sent = writer->Write(piece);
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return FromGrpcStatus(s);
  return manifest;
}

absl::StatusOr<v1::Package> Platform::CreatePackage(const std::string& name,
                                                    const std::string& author) {
  v1::CreatePackageRequest request;
  request.set_name(name);
  request.set_author(author);
  request.set_description(absl::StrCat(name, " by ", author));
  return ManagementCall<v1::Package>(*operator_, [&](grpc::ClientContext* ctx, v1::Package* out) {
    return catalog_admin_->CreatePackage(ctx, request, out);
  });
}

absl::StatusOr<v1::Release> Platform::CreateRelease(const v1::CreateReleaseRequest& request) {
  return ManagementCall<v1::Release>(*operator_, [&](grpc::ClientContext* ctx, v1::Release* out) {
    return catalog_admin_->CreateRelease(ctx, request, out);
  });
}

absl::StatusOr<v1::Release> Platform::PublishRelease(const std::string& release_id) {
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, GetRelease(release_id));
  UPDRAFT_ASSIGN_OR_RETURN(
      v1::ReleaseMetadata metadata,
      ReleaseMetadataFor(release, clock_.Now(), clock_.Now() + kMetadataLifetime));
  UPDRAFT_ASSIGN_OR_RETURN(v1::SignedReleaseMetadata signed_metadata,
                           SignReleaseMetadata(metadata, *publisher_key_));
  return PublishRelease(release_id, signed_metadata);
}

absl::StatusOr<v1::Release> Platform::PublishRelease(
    const std::string& release_id, const v1::SignedReleaseMetadata& signed_metadata) {
  v1::PublishReleaseRequest request;
  request.set_release_id(release_id);
  *request.mutable_signed_metadata() = signed_metadata;
  return ManagementCall<v1::Release>(*operator_, [&](grpc::ClientContext* ctx, v1::Release* out) {
    return catalog_admin_->PublishRelease(ctx, request, out);
  });
}

absl::StatusOr<v1::Release> Platform::GetRelease(const std::string& release_id) {
  v1::GetReleaseRequest request;
  request.set_release_id(release_id);
  return ManagementCall<v1::Release>(*operator_, [&](grpc::ClientContext* ctx, v1::Release* out) {
    return catalog_admin_->GetRelease(ctx, request, out);
  });
}

absl::StatusOr<v1::DeviceState> Platform::GetDeviceState(const std::string& device_id) {
  v1::GetDeviceStateRequest request;
  request.set_device_id(device_id);
  return ManagementCall<v1::DeviceState>(*operator_,
                                         [&](grpc::ClientContext* ctx, v1::DeviceState* out) {
                                           return catalog_admin_->GetDeviceState(ctx, request, out);
                                         });
}

absl::StatusOr<std::string> Platform::CreateApiKeyFile(const std::string& name,
                                                       const std::string& role,
                                                       const std::string& path) {
  UPDRAFT_ASSIGN_OR_RETURN(
      CreatedApiKey key,
      auth_server_->admin().CreateApiKey(OperatorIdentity{"e2e", Role::kAdmin, ""}, name, role));
  std::ofstream out(path);
  out << key.api_key << "\n";
  out.close();
  if (!out.good()) return absl::InternalError("cannot write " + path);
  return key.api_key;
}

absl::StatusOr<v1::Challenge> Platform::GetChallenge(const std::string& device_id) {
  v1::GetChallengeRequest request;
  request.set_device_id(device_id);
  return Call<v1::Challenge>([&](grpc::ClientContext* ctx, v1::Challenge* out) {
    return auth_->GetChallenge(ctx, request, out);
  });
}

absl::StatusOr<v1::LoginResponse> Platform::Login(const std::string& device_id,
                                                  const std::string& nonce,
                                                  const std::string& signature) {
  v1::LoginRequest request;
  request.set_device_id(device_id);
  request.set_nonce(nonce);
  request.set_signature(signature);
  return Call<v1::LoginResponse>([&](grpc::ClientContext* ctx, v1::LoginResponse* out) {
    return auth_->Login(ctx, request, out);
  });
}

absl::StatusOr<std::string> Platform::AccessToken(const std::string& device_id,
                                                  const Ed25519KeyPair& key) {
  UPDRAFT_ASSIGN_OR_RETURN(v1::Challenge challenge, GetChallenge(device_id));
  UPDRAFT_ASSIGN_OR_RETURN(std::string signature,
                           key.Sign(LoginMessage(device_id, challenge.nonce())));
  UPDRAFT_ASSIGN_OR_RETURN(v1::LoginResponse login, Login(device_id, challenge.nonce(), signature));
  return login.access_token();
}

absl::StatusOr<std::vector<std::string>> Platform::ImportAndLogIn(
    const std::vector<std::string>& device_ids, int per_window, absl::Duration window_gap) {
  const int n = static_cast<int>(device_ids.size());
  std::string csv = "device_id,key_type,public_key\n";
  std::vector<Ed25519KeyPair> keys;
  for (const std::string& id : device_ids) {
    UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key, Ed25519KeyPair::Generate());
    absl::StrAppend(&csv, id, ",ed25519,", absl::WebSafeBase64Escape(key.public_key()), "\n");
    keys.push_back(std::move(key));
  }
  v1::ImportDevicesRequest request;
  request.set_csv(csv);
  UPDRAFT_ASSIGN_OR_RETURN(
      v1::ImportDevicesResponse imported,
      ManagementCall<v1::ImportDevicesResponse>(
          *operator_, [&](grpc::ClientContext* ctx, v1::ImportDevicesResponse* out) {
            return auth_admin_->ImportDevices(ctx, request, out);
          }));
  if (imported.imported() != n) {
    return absl::InternalError(
        absl::StrCat("imported ", imported.imported(), " of ", n, " devices"));
  }
  std::vector<absl::StatusOr<std::string>> tokens(n, absl::UnknownError("not logged in"));
  for (int start = 0; start < n; start += per_window) {
    if (start > 0) clock_.Advance(window_gap);
    const int end = std::min(n, start + per_window);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = start + t; i < end; i += 4) tokens[i] = AccessToken(device_ids[i], keys[i]);
      });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    if (!tokens[i].ok()) {
      return absl::Status(tokens[i].status().code(),
                          absl::StrCat(device_ids[i], ": ", tokens[i].status().message()));
    }
    out.push_back(*std::move(tokens[i]));
  }
  return out;
}

absl::StatusOr<v1::CheckForUpdatesResponse> Platform::CheckForUpdates(
    const std::string& token, const v1::CheckForUpdatesRequest& request) {
  return Call<v1::CheckForUpdatesResponse>(
      [&](grpc::ClientContext* ctx, v1::CheckForUpdatesResponse* out) {
        return device_catalog_->CheckForUpdates(ctx, request, out);
      },
      token);
}

absl::StatusOr<std::vector<v1::Chunk>> Platform::Fetch(const std::string& token,
                                                       const std::string& sha256, int64_t offset) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  v1::FetchRequest request;
  request.set_sha256(sha256);
  request.set_offset(offset);
  std::unique_ptr<grpc::ClientReaderInterface<v1::Chunk>> reader = download_->Fetch(&ctx, request);
  std::vector<v1::Chunk> chunks;
  v1::Chunk chunk;
  while (reader->Read(&chunk)) chunks.push_back(chunk);
  grpc::Status s = reader->Finish();
  if (!s.ok()) return FromGrpcStatus(s);
  return chunks;
}

absl::StatusOr<std::unique_ptr<TestDevice>> TestDevice::Create(Platform& platform,
                                                               const std::string& dir,
                                                               Options options) {
  std::unique_ptr<TestDevice> d(new TestDevice());
  d->install_root_ = absl::StrCat(dir, "/handset");
  d->key_store_ = std::make_unique<device::FileKeyStore>(absl::StrCat(dir, "/device.key"));
  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key, d->key_store_->LoadOrGenerate());
  d->key_ = std::move(key);
  UPDRAFT_ASSIGN_OR_RETURN(d->installer_,
                           device::DirectoryInstaller::Create({.root = d->install_root_}));

  device::Client::Options o;
  o.device_id = options.device_id;
  o.auth_channel = Channel(platform.auth_address());
  o.catalog_channel = Channel(platform.catalog_address());
  o.download_channel_factory = [](const std::string& target) { return Channel(target); };
  o.security.plaintext = true;  // loopback tests: plaintext gRPC and http:// sources
  o.key_store = d->key_store_.get();
  o.installer = d->installer_.get();
  o.state_dir = absl::StrCat(dir, "/state");
  o.trusted_publisher_keys = options.trusted_publisher_keys.value_or(
      std::vector<std::string>{platform.publisher_key().public_key()});
  o.attributes.set_model("e2e-phone");
  o.attributes.set_os_version("14");
  o.attributes.set_carrier("test-carrier");
  TestDevice* raw = d.get();
  const bool consent = options.consent;
  o.consent = [raw, consent](const v1::Offer& offer) {
    raw->offers_.push_back(offer);
    return consent;
  };
  o.on_progress = [raw](const device::ProgressEvent& event) {
    device::ProgressEvent copy = event;
    copy.offer = nullptr;  // only valid during the callback
    raw->events_.push_back(std::move(copy));
  };
  o.clock = options.clock != nullptr ? options.clock : &platform.clock();
  o.download_target_override = options.download_target_override;
  o.rpc_timeout = absl::Seconds(10);
  o.retry_backoff = absl::Milliseconds(500);
  o.sleep = [raw](absl::Duration wait) { raw->waits_.push_back(wait); };
  UPDRAFT_ASSIGN_OR_RETURN(d->client_, device::Client::Create(std::move(o)));
  return d;
}

std::string TestDevice::PackageDir(const std::string& package) const {
  return installer_->PackageDir(package);
}

int TestDevice::Count(device::ProgressEvent::Step step) const {
  int n = 0;
  for (const device::ProgressEvent& e : events_) n += e.step == step ? 1 : 0;
  return n;
}

RefusingAddress::RefusingAddress() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    address_ = Loopback(ntohs(addr.sin_port));
  } else {
    address_ = "127.0.0.1:1";
  }
}

RefusingAddress::~RefusingAddress() {
  if (fd_ >= 0) close(fd_);
}

DemoArtifact MakeDemoArtifact(const std::string& version) {
  DemoArtifact a;
  a.app_bin = PseudoRandomBytes(absl::StrCat("app.bin ", version), 9000);
  a.libcodec = PseudoRandomBytes(absl::StrCat("libcodec.so ", version), 7000);
  a.tar = device::testutil::BuildTar({device::testutil::File("app.bin", a.app_bin, 0755),
                                      device::testutil::File("libcodec.so", a.libcodec)});
  return a;
}

v1::DcInfo DemoDcInfo() {
  v1::DcInfo dcinfo;
  dcinfo.set_variant(v1::DcInfo::FILES);
  v1::DcEntry* app = dcinfo.add_entries();
  app->set_dc_id("DC_1");
  app->add_files("app.bin");
  v1::DcEntry* codec = dcinfo.add_entries();
  codec->set_dc_id("DC_2");
  codec->add_files("libcodec.so");
  return dcinfo;
}

std::string PseudoRandomBytes(const std::string& seed, size_t size) {
  std::string out;
  for (int i = 0; out.size() < size; ++i) out += Sha256(absl::StrCat(seed, "/", i));
  out.resize(size);
  return out;
}

std::string ReadFile(const std::string& path) { return device::testutil::ReadOrMissing(path); }

}  // namespace updraft::e2e
