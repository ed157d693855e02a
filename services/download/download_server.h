#ifndef UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_
#define UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/token.h"
#include "services/download/download_service.h"
#include "services/download/fs_artifact_store.h"
#include "services/download/grpc_download_service.h"

namespace updraft::download {

// The download service wired up and serving: artifact volume, token
// verification with auth's published keys, the gRPC endpoint and /metrics.
// Used by main.cc and by integration tests.
class DownloadServer {
 public:
  struct Options {
    // "127.0.0.1:0" picks a free port; see port().
    std::string listen_address = "127.0.0.1:0";
    // Prometheus endpoint; empty serves none.
    std::string metrics_listen;
    std::string artifact_root;
    // Where auth's GetPublicKeys is served (insecure channel for now).
    std::string auth_address;
    // When set, replaces the keys fetched from auth_address (tests).
    PublicKeySource* key_source_override = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    int64_t max_artifact_bytes = int64_t{2} << 30;
    uint32_t default_chunk_size = kDefaultChunkSize;
  };

  static absl::StatusOr<std::unique_ptr<DownloadServer>> Create(Options options);
  ~DownloadServer();

  int port() const { return grpc_server_->port(); }
  int metrics_port() const { return metrics_->port(); }
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  DownloadServer() = default;

  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<FsArtifactStore> store_;
  std::unique_ptr<PublicKeySource> auth_keys_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<DownloadService> service_;
  std::unique_ptr<GrpcDownloadService> grpc_service_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_
