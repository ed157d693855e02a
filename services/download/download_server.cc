#include "services/download/download_server.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft::download {
namespace {

// A maximal chunk plus room for the message's other fields and framing.
constexpr int kMaxReceiveMessageBytes = static_cast<int>(kMaxChunkSize) + (1 << 20);

}  // namespace

absl::StatusOr<std::unique_ptr<DownloadServer>> DownloadServer::Create(Options options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("Options.clock must be set");
  if (options.artifact_root.empty()) {
    return absl::InvalidArgumentError("Options.artifact_root must be set");
  }
  if (options.key_source_override == nullptr && options.auth_address.empty()) {
    return absl::InvalidArgumentError("Options.auth_address must be set");
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           ServerCredentialsFrom(options.tls));
  std::unique_ptr<DownloadServer> s(new DownloadServer());
  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));
  FsArtifactStore::Options store_options;
  store_options.root = options.artifact_root;
  UPDRAFT_ASSIGN_OR_RETURN(s->store_, FsArtifactStore::Create(std::move(store_options)));

  UPDRAFT_ASSIGN_OR_RETURN(s->auth_,
                           ServiceAuth::Create({.auth_address = options.auth_address,
                                                .tls = options.tls,
                                                .redis = options.redis,
                                                .redis_key_prefix = options.redis_key_prefix,
                                                .key_source_override = options.key_source_override,
                                                .clock = options.clock,
                                                .metrics = &s->metrics_->registry(),
                                                .logger = options.logger}));
  if (options.redis.has_value()) {
    if (options.enforce_download_grants) {
      UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(*options.redis));
      UPDRAFT_ASSIGN_OR_RETURN(s->grants_,
                               RedisDownloadGrants::Create({.redis = s->redis_.get(),
                                                            .key_prefix = options.redis_key_prefix,
                                                            .clock = options.clock}));
    }
  } else if (options.logger != nullptr) {
    options.logger->Warning("no --redis: token revocations and download grants are not enforced");
  }

  DownloadService::Options service_options;
  service_options.store = s->store_.get();
  service_options.verifier = &s->auth_->device_verifier();
  service_options.max_artifact_bytes = options.max_artifact_bytes;
  service_options.default_chunk_size = options.default_chunk_size;
  service_options.grants = s->grants_.get();
  service_options.max_fetches_per_device = options.max_fetches_per_device;
  service_options.logger = options.logger;
  UPDRAFT_ASSIGN_OR_RETURN(s->service_, DownloadService::Create(service_options));
  s->grpc_service_ = std::make_unique<GrpcDownloadService>(
      s->service_.get(), &s->metrics_->registry(), &s->auth_->operator_verifier());

  GrpcServer::Options server_options;
  server_options.listen_address = options.listen_address;
  server_options.services = {s->grpc_service_.get()};
  server_options.metrics = s->metrics_.get();
  server_options.max_receive_message_bytes = kMaxReceiveMessageBytes;
  server_options.credentials = std::move(credentials);
  UPDRAFT_ASSIGN_OR_RETURN(s->grpc_server_, GrpcServer::Start(std::move(server_options)));

  if (options.logger != nullptr) {
    options.logger->Info("download service listening",
                         {{"address", options.listen_address},
                          {"port", absl::StrCat(s->port())},
                          {"metrics_port", absl::StrCat(s->metrics_port())},
                          {"artifact_root", options.artifact_root}});
  }
  return s;
}

DownloadServer::~DownloadServer() { Shutdown(absl::ZeroDuration()); }

void DownloadServer::Shutdown(absl::Duration grace) {
  if (grpc_server_) grpc_server_->Shutdown(grace);
}

}  // namespace updraft::download
