#ifndef UPDRAFT_SDK_DEVICE_CLIENT_H_
#define UPDRAFT_SDK_DEVICE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "sdk/device/channels.h"
#include "sdk/device/downloader.h"
#include "sdk/device/installer.h"
#include "sdk/device/key_store.h"
#include "sdk/device/state_store.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"

namespace updraft::device {

// What the user is told when an offer has been handled, or that there was
// nothing new. Every outcome except "nothing new" is also reported to the
// catalog with its SCOMO result code.
struct UpdateOutcome {
  // The catalog had no update; the other fields are empty.
  bool nothing_new = false;
  v1::Release release;
  // OVERWRITE or FRESH_INSTALL: what the install did, else what was offered.
  v1::OfferKind kind = v1::OFFER_KIND_UNSPECIFIED;
  v1::ResultCode result = v1::RESULT_CODE_UNSPECIFIED;
  // The reason for a failure, or a summary of what happened.
  std::string message;
  // DC IDs registered in Inventory/Deployed (success only).
  std::vector<std::string> dc_ids;
  std::string install_location;
  std::string report_id;
  // True once the catalog acknowledged the report; otherwise the report
  // stays persisted and is re-sent (same report_id) by the next run.
  bool reported = false;
  std::string report_error;
  // Set when the outcome answers a per-component operation the catalog
  // queued (CheckForUpdatesResponse.operations); `release` then names the
  // DC's release.
  std::string operation_id;
  v1::ComponentOperation::Kind operation_kind = v1::ComponentOperation::KIND_UNSPECIFIED;
  std::string dc_id;

  bool success() const { return result == v1::SUCCESS; }
};

// One step of the active-upgrade flow, for a progress display.
struct ProgressEvent {
  enum class Step {
    kLoggedIn,
    kFoundUpdate,
    kConsented,
    kDownloading,
    kVerified,
    kInstalled,
    kConfigured,
    kComponentsRegistered,
    kReported,
  };
  Step step = Step::kLoggedIn;
  // The offer being handled (valid during the callback only); null for
  // kLoggedIn and for re-sent reports.
  const v1::Offer* offer = nullptr;
  // 1-based position of the offer among `offer_count`.
  int offer_index = 0;
  int offer_count = 0;
  // kLoggedIn: how long the new token is valid.
  absl::Duration token_lifetime;
  // kDownloading, kVerified.
  DownloadProgressInfo download;
  // kInstalled, kConfigured.
  std::string install_location;
  int settings_applied = 0;
  // kComponentsRegistered.
  std::vector<std::string> dc_ids;
  // kReported.
  v1::ResultCode result = v1::RESULT_CODE_UNSPECIFIED;
  std::string report_id;
  // kReported: the catalog had already recorded this report_id.
  bool duplicate = false;
  // kReported: a report persisted by an earlier run, re-sent now; `release`
  // names what it was about.
  bool resent = false;
  v1::Release release;
};

// The device SDK's entry point: the device side of the active-upgrade flow
// (design.md section 1): login -> check -> consent -> download (chunked,
// verified, resumable) -> install -> configure -> assign DC IDs -> report ->
// tell the user. Transport is gRPC to auth, catalog and download; the
// platform pieces (key storage, installing) come in through interfaces; the
// SCOMO tree lives in a StateStore in `state_dir`.
//
// Not thread-safe: one flow at a time.
class Client {
 public:
  struct Options {
    std::string device_id;
    // The services, either as ready channels or as addresses the client
    // dials itself with `security`.
    std::shared_ptr<grpc::Channel> auth_channel;
    std::shared_ptr<grpc::Channel> catalog_channel;
    std::string auth_address;
    std::string catalog_address;
    // Channel to the download server an offer names (Offer.download_target);
    // when unset, DownloadChannelFactory(security).
    std::function<std::shared_ptr<grpc::Channel>(const std::string& target)>
        download_channel_factory;
    // TLS of the channels the client makes itself (see channels.h): the CA
    // verifying the servers is required unless plaintext is set explicitly.
    ChannelSecurity security;
    // Not owned; must outlive the client.
    KeyStore* key_store = nullptr;
    Installer* installer = nullptr;
    std::string state_dir;
    v1::DeviceAttributes attributes;
    // Asked for every offer; false declines it (reported as USER_CANCELLED).
    std::function<bool(const v1::Offer&)> consent;
    // Optional.
    std::function<void(const UpdateOutcome&)> on_result;
    std::function<void(const ProgressEvent&)> on_progress;
    // Optional; the real clock by default. Decides token reuse.
    const Clock* clock = nullptr;

    // When set, used instead of every offer's download_target.
    std::string download_target_override;
    // CA bundle for the offers' https:// sources (Offer.http_urls); empty:
    // the system's trust store. http:// sources are used only when
    // `security.plaintext` is set.
    std::string http_ca_file;
    // Raw Ed25519 public keys of the publishers whose signed release
    // metadata this device trusts (provisioned by the vendor or carrier).
    // Non-empty: every offer must carry metadata signed by one of them that
    // matches the offered release and has not expired, else it is refused
    // with PACKAGE_VALIDATION_FAILED before consent (release_trust.h).
    // Empty: unsigned releases are accepted.
    std::vector<std::string> trusted_publisher_keys;
    absl::Duration rpc_timeout = absl::Seconds(30);
    // A token is renewed this long before it expires (at most a quarter of
    // its lifetime).
    absl::Duration token_refresh_margin = absl::Minutes(1);
    // Downloader tuning (see downloader.h); `sleep` lets tests skip waits.
    int max_stream_retries = 3;
    absl::Duration retry_backoff = absl::Milliseconds(500);
    std::function<void(absl::Duration)> sleep;
  };

  // Loads (or generates) the device key and opens the state directory.
  // INVALID_ARGUMENT names a missing option; DATA_LOSS for a corrupt state
  // file.
  static absl::StatusOr<std::unique_ptr<Client>> Create(Options options);

  // Logs in unless a cached token is still good: GetChallenge, sign
  // LoginMessage(device_id, nonce) with the device key, Login. Each Login
  // answer carries the device's next challenge, kept in memory only (it is
  // worth nothing after a restart): while it is unexpired the next login is
  // that single Login call; if auth refuses it with UNAUTHENTICATED (used,
  // expired, or forgotten by auth) the client falls back once to
  // GetChallenge + Login. UNAUTHENTICATED says what to check when auth
  // rejects the device.
  absl::Status Login();

  // Sends the persisted inventory (Delivered + Deployed) and the device
  // attributes; returns every applicable offer (empty: nothing new).
  absl::StatusOr<std::vector<v1::Offer>> CheckForUpdates();
  // The same check, with the per-component operations queued for the device.
  absl::StatusOr<v1::CheckForUpdatesResponse> Check();

  // Executes one per-component operation and reports it with its SCOMO
  // result code (client_operations.cc): UPDATE runs the offer flow for the
  // operation's offer (success at once when that release is installed);
  // ACTIVATE, DEACTIVATE and REMOVE call the Installer for the Deployed DC
  // (REMOVE of a package's last DC removes the package) and update its
  // Deployed node (State, or removal) together with the persisted report.
  // An operation already executed (done_operations) is not run again: its
  // persisted report, if still unsent, is re-sent. RunActiveUpgrade calls
  // this for every operation in the check's answer, after the offers.
  UpdateOutcome HandleOperation(const v1::PendingOperation& operation, int index, int count);

  // The whole flow for every offer (see the class comment), then every
  // per-component operation (HandleOperation). Outcomes of the offers and
  // operations, or a single "nothing new" outcome; each also goes to on_result.
  // An error means the flow could not start (login, catalog unreachable);
  // failures of individual offers are outcomes, not errors.
  absl::StatusOr<std::vector<UpdateOutcome>> RunActiveUpgrade();

  // Sends the reports a previous run persisted but could not deliver, with
  // their original report_id. Returns how many are still pending.
  absl::StatusOr<int> ResendPendingReports();

  // A valid access token for this device (logs in when needed), for the
  // device's calls to other services (the notifier's Subscribe and Ack).
  absl::StatusOr<std::string> AccessToken();
  // Forgets the cached token (a service rejected it); the next call logs in.
  void ForgetToken() { token_.clear(); }

  const std::string& public_key() const { return key_->public_key(); }
  v1::DeviceLocalState LocalState() const { return state_->Snapshot(); }

 private:
  Client(Options options, Ed25519KeyPair key, std::unique_ptr<StateStore> state);

  // Runs `rpc` with the access token; on UNAUTHENTICATED logs in again and
  // retries once.
  grpc::Status WithToken(const std::function<grpc::Status(grpc::ClientContext&)>& rpc,
                         absl::Status* login_error);
  // Signs `nonce` and calls Login; on success keeps the token and the next
  // challenge the answer carries.
  absl::Status LoginWith(const std::string& nonce, absl::Time now);
  void Emit(ProgressEvent event) const;
  // `operation_id`, `dc_id`: the UPDATE operation the offer came with, if
  // any, and the Deployed component it names.
  UpdateOutcome HandleOffer(const v1::Offer& offer, int index, int count,
                            const std::string& operation_id = "", const std::string& dc_id = "");
  absl::StatusOr<std::string> Download(const v1::Offer& offer, Downloader& downloader);
  // A new report (fresh report_id, set on `out`) of `out` with the Deployed
  // nodes of `state`.
  v1::LocalPendingReport NewReport(UpdateOutcome& out, const v1::DeviceLocalState& state) const;
  // Persists (unless `persisted_report` was already saved) and sends the
  // report of `outcome`, then tells the user.
  UpdateOutcome Finish(UpdateOutcome outcome, const v1::Offer* offer, int index, int count,
                       std::optional<v1::LocalPendingReport> persisted_report = std::nullopt);
  // Sends one persisted report; OK when the catalog acknowledged it or
  // rejected it for good (then `*error` says why); the report is then no
  // longer pending.
  absl::Status SendReport(const v1::LocalPendingReport& report, bool* duplicate,
                          std::string* error);

  Options options_;
  std::optional<Ed25519KeyPair> key_;
  PublisherKeys publisher_keys_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<v1::Auth::StubInterface> auth_;
  std::unique_ptr<v1::DeviceCatalog::StubInterface> catalog_;
  RealClock real_clock_;
  std::string token_;
  absl::Time token_renew_at_ = absl::InfinitePast();
  // From the last LoginResponse; never persisted.
  std::optional<v1::Challenge> next_challenge_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_CLIENT_H_
