#ifndef UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_
#define UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/pg_pool.h"
#include "common/token.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/grpc_catalog_service.h"
#include "services/catalog/manifest_source.h"

namespace updraft::catalog {

// The running catalog service: PostgreSQL pool (migrations applied at
// start), the download service client for manifests, token verification
// with auth's published keys, the domain class and its two gRPC APIs on one
// server, and the metrics endpoint. Used by main.cc and integration tests.
class CatalogServer {
 public:
  struct Options {
    // "127.0.0.1:0" picks a free port; see port().
    std::string listen_address = "127.0.0.1:0";
    // Prometheus endpoint; empty means none.
    std::string metrics_listen;
    std::string pg_uri;
    int pg_pool_size = 8;
    // The download service, asked for artifact manifests.
    std::string download_address;
    // The auth service, asked for token keys.
    std::string auth_address;
    // Download target put in offers for devices; empty means download_address.
    std::string public_download_target;
    // When set, token keys come from here instead of the auth service.
    PublicKeySource* key_source_override = nullptr;
    // Real clock when null.
    const Clock* clock = nullptr;
    // Required.
    Logger* logger = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<CatalogServer>> Create(Options options);
  ~CatalogServer();

  int port() const { return grpc_server_->port(); }
  int metrics_port() const { return metrics_->port(); }
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  CatalogServer() = default;

  RealClock real_clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<CatalogStore> store_;
  std::unique_ptr<ManifestSource> manifests_;
  std::unique_ptr<PublicKeySource> key_source_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<CatalogService> service_;
  std::unique_ptr<GrpcCatalogAdmin> admin_api_;
  std::unique_ptr<GrpcDeviceCatalog> device_api_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_
