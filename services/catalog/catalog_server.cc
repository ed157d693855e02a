#include "services/catalog/catalog_server.h"

#include "absl/strings/str_cat.h"
#include "common/migrations.h"
#include "common/status_util.h"
#include "services/catalog/catalog_migrations.h"
#include "services/catalog/download_manifest_source.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/catalog/pg_group_store.h"
#include "services/catalog/pg_operation_store.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::catalog {

absl::StatusOr<std::unique_ptr<CatalogServer>> CatalogServer::Create(Options options) {
  if (options.logger == nullptr) return absl::InvalidArgumentError("CatalogServer needs a logger");
  if (options.pg_uri.empty()) return absl::InvalidArgumentError("--pg_uri is required");
  if (options.download_address.empty()) {
    return absl::InvalidArgumentError("--download_address is required");
  }
  if (options.key_source_override == nullptr && options.auth_address.empty()) {
    return absl::InvalidArgumentError("--auth_address is required");
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                           ServerCredentialsFrom(options.tls));
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> download_channel,
                           MakeChannel(options.download_address, options.tls));
  std::unique_ptr<CatalogServer> s(new CatalogServer());
  const Clock* clock = options.clock != nullptr ? options.clock : &s->real_clock_;

  UPDRAFT_ASSIGN_OR_RETURN(s->metrics_, Metrics::Create(options.metrics_listen));
  UPDRAFT_ASSIGN_OR_RETURN(s->pool_,
                           PgPool::Create({.uri = options.pg_uri, .size = options.pg_pool_size}));
  int applied = 0;
  UPDRAFT_RETURN_IF_ERROR(ApplyMigrations(*s->pool_, "catalog", CatalogMigrations(), &applied));
  s->store_ = std::make_unique<PgCatalogStore>(s->pool_.get());
  s->groups_ = std::make_unique<PgGroupStore>(s->pool_.get());
  s->operations_ = std::make_unique<PgOperationStore>(s->pool_.get());
  s->releases_ = std::make_unique<ReleaseCache>(s->store_.get());
  UPDRAFT_ASSIGN_OR_RETURN(
      s->release_listener_,
      PgReleaseListener::Start({.pg_uri = options.pg_uri,
                                .cache = s->releases_.get(),
                                .logger = options.logger,
                                .pending_operations = &s->pending_operations_,
                                .operation_store = s->operations_.get(),
                                .full_reload_interval = options.release_reload_interval}));

  std::shared_ptr<grpc::Channel> auth_channel;
  if (!options.auth_address.empty()) {
    UPDRAFT_ASSIGN_OR_RETURN(auth_channel, MakeChannel(options.auth_address, options.tls));
  }
  if (!options.api_key_file.empty()) {
    if (auth_channel == nullptr) {
      return absl::InvalidArgumentError("--api_key_file needs --auth_address");
    }
    UPDRAFT_ASSIGN_OR_RETURN(std::string api_key, ReadApiKeyFile(options.api_key_file));
    s->credentials_ =
        std::make_unique<OperatorTokenSource>(v1::Auth::NewStub(auth_channel), api_key, clock);
  } else {
    options.logger->Warning(
        "no --api_key_file: the catalog sends no operator token to Download.GetManifest");
  }
  s->manifests_ = std::make_unique<DownloadManifestSource>(
      v1::Download::NewStub(download_channel), absl::Seconds(10), s->credentials_.get());
  UPDRAFT_ASSIGN_OR_RETURN(s->auth_,
                           ServiceAuth::Create({.auth_address = options.auth_address,
                                                .tls = options.tls,
                                                .redis = options.redis,
                                                .redis_key_prefix = options.redis_key_prefix,
                                                .key_source_override = options.key_source_override,
                                                .clock = clock,
                                                .metrics = &s->metrics_->registry(),
                                                .logger = options.logger}));
  if (options.redis.has_value()) {
    UPDRAFT_ASSIGN_OR_RETURN(s->redis_, RedisClient::Create(*options.redis));
    UPDRAFT_ASSIGN_OR_RETURN(
        s->grants_, RedisDownloadGrantWriter::Create({.redis = s->redis_.get(),
                                                      .key_prefix = options.redis_key_prefix,
                                                      .ttl = options.download_grant_ttl}));
  } else {
    options.logger->Warning(
        "no --redis: token revocations are not enforced and no download grants are written");
  }

  if (!options.publisher_keys_file.empty()) {
    UPDRAFT_ASSIGN_OR_RETURN(s->publisher_keys_,
                             PublisherKeys::FromFile(options.publisher_keys_file));
    options.logger->Info("publishing only signed releases",
                         {{"publisher_keys", absl::StrCat(s->publisher_keys_.size())}});
  } else {
    options.logger->Warning(
        "no --publisher_keys_file: releases are published without signed metadata");
  }
  UPDRAFT_ASSIGN_OR_RETURN(
      s->campaigns_,
      CampaignRuntime::Create({.pool = s->pool_.get(),
                               .catalog = s->store_.get(),
                               .groups = s->groups_.get(),
                               .operator_verifier = &s->auth_->operator_verifier(),
                               .clock = clock,
                               .logger = options.logger,
                               .registry = &s->metrics_->registry(),
                               .notifier_address = options.notifier_address,
                               .tls = options.tls,
                               .credentials = s->credentials_.get(),
                               .announce_server_address = options.public_catalog_address.empty()
                                                              ? options.listen_address
                                                              : options.public_catalog_address,
                               .tick_interval = options.campaign_tick_interval,
                               .watch_poll_interval = options.campaign_watch_poll_interval,
                               .allow_plain_http_webhooks = options.allow_plain_http_webhooks}));
  // Campaign bookkeeping of update checks runs off the device's RPC.
  s->check_observer_ =
      std::make_unique<BackgroundCheckObserver>(&s->campaigns_->engine().outcomes());
  UPDRAFT_ASSIGN_OR_RETURN(
      s->service_,
      CatalogService::Create({.store = s->store_.get(),
                              .manifests = s->manifests_.get(),
                              .clock = clock,
                              .public_download_target = options.public_download_target.empty()
                                                            ? options.download_address
                                                            : options.public_download_target,
                              .public_http_base = options.public_http_base,
                              .grants = s->grants_.get(),
                              .logger = options.logger,
                              .releases = s->releases_.get(),
                              .groups = s->groups_.get(),
                              .operations = s->operations_.get(),
                              .announcer = s->campaigns_->announcer(),
                              .pending_operations = &s->pending_operations_,
                              .publisher_keys = &s->publisher_keys_,
                              .campaigns = s->check_observer_.get(),
                              .offer_gate = &s->campaigns_->engine().outcomes()}));
  s->admin_api_ =
      std::make_unique<GrpcCatalogAdmin>(s->service_.get(), &s->auth_->operator_verifier());
  s->device_api_ = std::make_unique<GrpcDeviceCatalog>(
      s->service_.get(), &s->auth_->device_verifier(), s->metrics_.get());
  UPDRAFT_ASSIGN_OR_RETURN(
      s->grpc_server_,
      GrpcServer::Start(
          {.listen_address = options.listen_address,
           .services = {s->admin_api_.get(), s->device_api_.get(), s->campaigns_->service()},
           .metrics = s->metrics_.get(),
           .methods_observing_themselves = {GrpcDeviceCatalog::kCheckForUpdatesMethod},
           .credentials = std::move(credentials)}));
  options.logger->Info("catalog started", {{"listen", options.listen_address},
                                           {"port", absl::StrCat(s->port())},
                                           {"metrics_port", absl::StrCat(s->metrics_port())},
                                           {"migrations_applied", absl::StrCat(applied)}});
  return s;
}

CatalogServer::~CatalogServer() { Shutdown(absl::ZeroDuration()); }

void CatalogServer::Shutdown(absl::Duration grace) {
  if (campaigns_) campaigns_->Stop();
  if (grpc_server_) grpc_server_->Shutdown(grace);
}

}  // namespace updraft::catalog
