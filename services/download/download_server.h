#ifndef UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_
#define UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/redis_client.h"
#include "common/revocation.h"
#include "common/service_auth.h"
#include "common/tls.h"
#include "common/token.h"
#include "services/download/download_service.h"
#include "services/download/fs_artifact_store.h"
#include "services/download/grpc_download_service.h"
#include "services/download/redis_download_grants.h"

namespace updraft::download {

// The download service wired up and serving: artifact volume, device and
// operator token verification with auth's published keys and the Redis
// revocation feed, the download grants the catalog writes to Redis, the
// gRPC endpoint and /metrics.
// Used by main.cc and by integration tests.
class DownloadServer {
 public:
  struct Options {
    // "127.0.0.1:0" picks a free port; see port().
    std::string listen_address = "127.0.0.1:0";
    // Prometheus endpoint; empty serves none.
    std::string metrics_listen;
    std::string artifact_root;
    // Where auth's GetPublicKeys is served.
    std::string auth_address;
    // When set, replaces the keys fetched from auth_address (tests).
    PublicKeySource* key_source_override = nullptr;
    // TLS of the listener and of the channel to auth; empty: plaintext.
    TlsOptions tls;
    // Redis carrying auth's revocations; unset: revoked tokens stay valid
    // until they expire (tests only).
    std::optional<RedisClient::Options> redis;
    std::string redis_key_prefix = "updraft:";
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    int64_t max_artifact_bytes = int64_t{2} << 30;
    uint32_t default_chunk_size = kDefaultChunkSize;
    // Fetch streams one device may have open at once on this replica.
    int max_fetches_per_device = 2;
    // With `redis` set, a device may fetch only artifacts the catalog offered
    // to it (grants in Redis); false, or no Redis: any artifact (tests).
    bool enforce_download_grants = true;
  };

  static absl::StatusOr<std::unique_ptr<DownloadServer>> Create(Options options);
  ~DownloadServer();

  int port() const { return grpc_server_->port(); }
  int metrics_port() const { return metrics_->port(); }
  // The revocations this replica enforces.
  RevocationList& revocations() { return auth_->revocations(); }
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  DownloadServer() = default;

  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<FsArtifactStore> store_;
  std::unique_ptr<ServiceAuth> auth_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisDownloadGrants> grants_;
  std::unique_ptr<DownloadService> service_;
  std::unique_ptr<GrpcDownloadService> grpc_service_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_DOWNLOAD_SERVER_H_
