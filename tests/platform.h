#ifndef UPDRAFT_TESTS_PLATFORM_H_
#define UPDRAFT_TESTS_PLATFORM_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/logger.h"
#include "common/operator_auth.h"
#include "common/release_metadata.h"
#include "common/test_env.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/file_key_store.h"
#include "services/auth/auth_server.h"
#include "services/catalog/catalog_server.h"
#include "services/download/download_server.h"
#include "services/notifier/notifier_server.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::e2e {

// The whole Updraft platform in one test process, for end-to-end tests: a
// fresh PostgreSQL database and Redis prefix (TestEnv), and the real auth,
// download, catalog and notifier servers on 127.0.0.1 ephemeral ports, all
// on one FakeClock. The services find each other by their loopback
// addresses (catalog -> download for manifests; catalog, download and
// notifier -> auth's GetPublicKeys for token keys), exactly as deployed.
// Publisher and device RPC helpers return the RPC's code and message as an
// absl::Status.
class Platform {
 public:
  static constexpr absl::Duration kTokenTtl = absl::Minutes(15);

  struct Options {
    // Catalog --public_http_base: offers then name HTTP sources.
    std::string public_http_base;
  };
  // How long the metadata PublishRelease signs stays valid.
  static constexpr absl::Duration kMetadataLifetime = absl::Hours(24 * 30);
  static absl::StatusOr<std::unique_ptr<Platform>> Start() { return Start(Options()); }
  static absl::StatusOr<std::unique_ptr<Platform>> Start(Options options);
  ~Platform();

  FakeClock& clock() { return clock_; }
  const std::string& auth_address() const { return auth_address_; }
  const std::string& catalog_address() const { return catalog_address_; }
  const std::string& download_address() const { return download_address_; }
  const std::string& artifact_root() const { return artifact_root_; }
  // Where the download service keeps the bytes of artifact `sha256`.
  std::string ArtifactObjectPath(const std::string& sha256) const;
  notifier::NotifierServer& notifier_server() { return *notifier_; }
  const std::string& notifier_address() const { return notifier_address_; }
  // The database and Redis every service of this platform uses (e.g. to
  // start another catalog replica).
  TestEnv& env() { return *env_; }
  // Flags for the catalog binary (a ServiceProcess) on this platform's
  // database, Redis, auth and download service, listening on port 0.
  std::vector<std::string> CatalogProcessFlags();
  // Flags for the notifier binary on this platform's database, Redis and
  // auth, signing notifications with the key in `notification_key_file`.
  std::vector<std::string> NotifierProcessFlags(const std::string& notification_key_file);
  // Flags for the download binary on this platform's Redis and auth, keeping
  // artifacts under `artifact_root`.
  std::vector<std::string> DownloadProcessFlags(const std::string& artifact_root);

  v1::Auth::StubInterface& auth() { return *auth_; }
  v1::CatalogAdmin::StubInterface& catalog_admin() { return *catalog_admin_; }
  v1::Download::StubInterface& download() { return *download_; }
  v1::Notifier::StubInterface& notifier() { return *notifier_api_; }
  // Adds the bootstrap admin's operator token to a management call.
  absl::Status AuthorizeAsAdmin(grpc::ClientContext* context) {
    return operator_->Authorize(context);
  }

  // Publisher steps (management RPCs).
  absl::Status RegisterDevice(const std::string& device_id, const std::string& public_key);
  absl::StatusOr<v1::ArtifactManifest> Upload(const std::string& data, uint32_t chunk_size);
  absl::StatusOr<v1::Package> CreatePackage(const std::string& name, const std::string& author);
  absl::StatusOr<v1::Release> CreateRelease(const v1::CreateReleaseRequest& request);
  // Signs the release's metadata with publisher_key() (valid for
  // kMetadataLifetime from the platform clock's now) and publishes it: the
  // catalog trusts only that key.
  absl::StatusOr<v1::Release> PublishRelease(const std::string& release_id);
  // Publishes with exactly this signed metadata (forged, stale, ... in tests).
  absl::StatusOr<v1::Release> PublishRelease(const std::string& release_id,
                                             const v1::SignedReleaseMetadata& signed_metadata);
  // The publisher key the catalog and every TestDevice trust.
  const Ed25519KeyPair& publisher_key() const { return *publisher_key_; }
  absl::StatusOr<v1::Release> GetRelease(const std::string& release_id);
  absl::StatusOr<v1::DeviceState> GetDeviceState(const std::string& device_id);

  // Creates an API key named `name` with `role` (as the bootstrap admin)
  // and writes it to `path` as a service's --api_key_file; returns the key.
  absl::StatusOr<std::string> CreateApiKeyFile(const std::string& name, const std::string& role,
                                               const std::string& path);

  // Device steps with raw RPCs.
  absl::StatusOr<v1::Challenge> GetChallenge(const std::string& device_id);
  absl::StatusOr<v1::LoginResponse> Login(const std::string& device_id, const std::string& nonce,
                                          const std::string& signature);
  // GetChallenge, sign LoginMessage with `key`, Login.
  absl::StatusOr<std::string> AccessToken(const std::string& device_id, const Ed25519KeyPair& key);
  // Registers `device_ids` with auth in one AuthAdmin.ImportDevices CSV (a
  // fresh Ed25519 key each) and logs each in on 4 threads: their access
  // tokens, in order. Auth allows 1,000 login steps (GetChallenge, Login) per
  // source and minute: the logins run `per_window` at a time, the clock
  // advanced by `window_gap` before every window but the first.
  absl::StatusOr<std::vector<std::string>> ImportAndLogIn(
      const std::vector<std::string>& device_ids, int per_window, absl::Duration window_gap);
  absl::StatusOr<v1::CheckForUpdatesResponse> CheckForUpdates(
      const std::string& token, const v1::CheckForUpdatesRequest& request);
  // Every chunk Download.Fetch streams, or the stream's final error.
  absl::StatusOr<std::vector<v1::Chunk>> Fetch(const std::string& token, const std::string& sha256,
                                               int64_t offset = 0);

 private:
  Platform() = default;

  std::unique_ptr<TestEnv> env_;
  FakeClock clock_;
  std::unique_ptr<Logger> logger_;
  std::string dir_;
  std::string artifact_root_;
  std::unique_ptr<AuthServer> auth_server_;
  std::unique_ptr<download::DownloadServer> download_server_;
  std::unique_ptr<catalog::CatalogServer> catalog_server_;
  std::unique_ptr<notifier::NotifierServer> notifier_;
  std::string auth_address_;
  std::string download_address_;
  std::string catalog_address_;
  std::string notifier_address_;
  std::unique_ptr<v1::Auth::StubInterface> auth_;
  std::unique_ptr<v1::AuthAdmin::StubInterface> auth_admin_;
  std::unique_ptr<v1::CatalogAdmin::StubInterface> catalog_admin_;
  std::unique_ptr<v1::DeviceCatalog::StubInterface> device_catalog_;
  std::unique_ptr<v1::Download::StubInterface> download_;
  std::unique_ptr<v1::Notifier::StubInterface> notifier_api_;
  std::unique_ptr<OperatorTokenSource> operator_;
  std::optional<Ed25519KeyPair> publisher_key_;
};

// A simulated handset for the real device SDK: a FileKeyStore key, a
// DirectoryInstaller and the SDK's state, all under one directory, and a
// device::Client connected to a Platform. Records the offers the user was
// asked about, the progress events and the retry waits (which never sleep).
// Two TestDevices over the same directory are the same handset restarted.
class TestDevice {
 public:
  struct Options {
    std::string device_id;
    bool consent = true;
    std::string download_target_override;
    // The platform's clock when null.
    const Clock* clock = nullptr;
    // Publisher keys the handset trusts; unset: the platform's publisher key.
    std::optional<std::vector<std::string>> trusted_publisher_keys;
  };

  static absl::StatusOr<std::unique_ptr<TestDevice>> Create(Platform& platform,
                                                            const std::string& dir,
                                                            Options options);

  device::Client& client() { return *client_; }
  const Ed25519KeyPair& key() const { return *key_; }
  const std::string& install_root() const { return install_root_; }
  std::string PackageDir(const std::string& package) const;
  const std::vector<v1::Offer>& offers() const { return offers_; }
  const std::vector<device::ProgressEvent>& events() const { return events_; }
  int Count(device::ProgressEvent::Step step) const;
  const std::vector<absl::Duration>& waits() const { return waits_; }
  void ClearEvents() { events_.clear(); }

 private:
  TestDevice() = default;

  std::optional<Ed25519KeyPair> key_;
  std::string install_root_;
  std::unique_ptr<device::FileKeyStore> key_store_;
  std::unique_ptr<device::DirectoryInstaller> installer_;
  std::vector<v1::Offer> offers_;
  std::vector<device::ProgressEvent> events_;
  std::vector<absl::Duration> waits_;
  std::unique_ptr<device::Client> client_;
};

// A loopback address where nothing listens: the port stays bound (so no one
// else takes it) but never listens, so connections are refused.
class RefusingAddress {
 public:
  RefusingAddress();
  ~RefusingAddress();
  RefusingAddress(const RefusingAddress&) = delete;
  RefusingAddress& operator=(const RefusingAddress&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// The "demo-app" artifact of one version: a tar holding app.bin and
// libcodec.so, each several 4 KiB chunks long and different per version.
struct DemoArtifact {
  std::string tar;
  std::string app_bin;
  std::string libcodec;
};
DemoArtifact MakeDemoArtifact(const std::string& version);

// DCinfo variant A for the demo artifact: {DC_1: app.bin}, {DC_2: libcodec.so}.
v1::DcInfo DemoDcInfo();

// `size` bytes that do not repeat, derived from `seed`.
std::string PseudoRandomBytes(const std::string& seed, size_t size);

// Contents of `path`, or "<missing>".
std::string ReadFile(const std::string& path);

}  // namespace updraft::e2e

#endif  // UPDRAFT_TESTS_PLATFORM_H_
