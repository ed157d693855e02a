#ifndef UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_
#define UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/logger.h"
#include "common/metrics.h"
#include "common/operator_auth.h"
#include "common/pg_pool.h"
#include "common/redis_client.h"
#include "common/release_metadata.h"
#include "common/revocation.h"
#include "common/service_auth.h"
#include "common/tls.h"
#include "common/token.h"
#include "services/catalog/background_check_observer.h"
#include "services/catalog/campaign_runtime.h"
#include "services/catalog/catalog_service.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/download_grant_writer.h"
#include "services/catalog/group_store.h"
#include "services/catalog/grpc_catalog_service.h"
#include "services/catalog/manifest_source.h"
#include "services/catalog/operation_store.h"
#include "services/catalog/pending_operation_index.h"
#include "services/catalog/pg_release_listener.h"
#include "services/catalog/release_cache.h"

namespace updraft::catalog {

// The running catalog service: PostgreSQL pool (migrations applied at
// start), the download service client for manifests (logged in with the
// catalog's own API key), device and operator token verification with
// auth's published keys and the Redis revocation feed, the domain class and
// its two gRPC APIs on one server, and the metrics endpoint. Used by main.cc
// and integration tests.
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
    // Base URL of the web server or CDN in front of the artifact volume;
    // empty: offers name no HTTP source (see CatalogService::Options).
    std::string public_http_base;
    // How long an offer lets the device fetch the artifact (grants in Redis,
    // written only when `redis` is set).
    absl::Duration download_grant_ttl = absl::Hours(6);
    // When set, token keys come from here instead of the auth service.
    PublicKeySource* key_source_override = nullptr;
    // TLS of the listener and of the channels to download and auth; empty:
    // plaintext.
    TlsOptions tls;
    // Redis carrying auth's revocations; unset: revoked tokens stay valid
    // until they expire (tests only).
    std::optional<RedisClient::Options> redis;
    std::string redis_key_prefix = "updraft:";
    // File with the API key (role viewer suffices) the catalog logs in with
    // to call Download.GetManifest; empty: no operator token is sent.
    std::string api_key_file;
    // Trusted publisher keys (PublisherKeys::FromFile format): when set,
    // every publication must carry release metadata signed by one of them.
    // Empty: releases are published unsigned (a warning is logged).
    std::string publisher_keys_file;
    // The notifier, asked to announce campaign waves (and queued operations)
    // with the operator token of api_key_file (which then needs role
    // publisher). Empty: this replica drives no campaign.
    std::string notifier_address;
    // The catalog address devices are told to check with; empty:
    // listen_address.
    std::string public_catalog_address;
    // How often this replica steps running campaigns and sends due webhooks;
    // zero: never by itself (tests call campaigns().StepOnce()).
    absl::Duration campaign_tick_interval = absl::Seconds(2);
    // WatchCampaign polling of the event log.
    absl::Duration campaign_watch_poll_interval = absl::Milliseconds(500);
    // Allows http:// webhook URLs (tests only).
    bool allow_plain_http_webhooks = false;
    // Safety-net full reload of the release snapshot (normally refreshed by
    // LISTEN/NOTIFY on every publish and withdraw).
    absl::Duration release_reload_interval = absl::Minutes(5);
    // Real clock when null.
    const Clock* clock = nullptr;
    // Required.
    Logger* logger = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<CatalogServer>> Create(Options options);
  ~CatalogServer();

  int port() const { return grpc_server_->port(); }
  int metrics_port() const { return metrics_->port(); }
  // The snapshot update checks are answered from.
  ReleaseCache& releases() { return *releases_; }
  CampaignRuntime& campaigns() { return *campaigns_; }
  PgReleaseListener& release_listener() { return *release_listener_; }
  // The revocations this replica enforces.
  RevocationList& revocations() { return auth_->revocations(); }
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  CatalogServer() = default;

  RealClock real_clock_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<CatalogStore> store_;
  std::unique_ptr<GroupStore> groups_;
  std::unique_ptr<OperationStore> operations_;
  std::unique_ptr<ReleaseCache> releases_;
  PendingOperationIndex pending_operations_;
  std::unique_ptr<PgReleaseListener> release_listener_;
  std::unique_ptr<ManifestSource> manifests_;
  std::unique_ptr<OperatorTokenSource> credentials_;
  std::unique_ptr<ServiceAuth> auth_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisDownloadGrantWriter> grants_;
  PublisherKeys publisher_keys_;
  std::unique_ptr<CatalogService> service_;
  std::unique_ptr<GrpcCatalogAdmin> admin_api_;
  std::unique_ptr<GrpcDeviceCatalog> device_api_;
  std::unique_ptr<CampaignRuntime> campaigns_;
  // Before campaigns_ in destruction: hands its queue to the engine first.
  std::unique_ptr<BackgroundCheckObserver> check_observer_;
  std::unique_ptr<GrpcServer> grpc_server_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CATALOG_SERVER_H_
