#include "sdk/device/client.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/login_format.h"
#include "common/status_util.h"
#include "sdk/device/component_ops.h"
#include "sdk/device/inventory.h"
#include "sdk/device/release_trust.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Whether a failed ReportResult is worth sending again later.
bool ReportRetryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return false;
    default:
      return true;
  }
}

// The catalog accepts at most 2048 bytes of valid UTF-8; a message may quote
// untrusted bytes (archive paths, server errors), so keep printable ASCII.
std::string ReportMessage(absl::string_view message) {
  std::string out(message.substr(0, 1024));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

absl::Status Prefixed(const grpc::Status& s, absl::string_view what) {
  absl::Status status = FromGrpcStatus(s);
  return absl::Status(status.code(), absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(Options options) {
  auto missing = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("Client::Options.", what, " is required"));
  };
  if (options.device_id.empty()) return missing("device_id");
  if (options.auth_channel == nullptr && options.auth_address.empty()) {
    return missing("auth_channel or auth_address");
  }
  if (options.catalog_channel == nullptr && options.catalog_address.empty()) {
    return missing("catalog_channel or catalog_address");
  }
  if (options.auth_channel == nullptr || options.catalog_channel == nullptr ||
      !options.download_channel_factory) {
    // Loaded once, shared by the channels below and every download's.
    absl::StatusOr<ChannelSecurity> security = LoadChannelCredentials(options.security);
    if (!security.ok()) {
      return absl::Status(security.status().code(),
                          absl::StrCat("Client::Options.security: ", security.status().message()));
    }
    options.security = *std::move(security);
  }
  if (options.auth_channel == nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(options.auth_channel,
                             MakeServiceChannel(options.auth_address, options.security));
  }
  if (options.catalog_channel == nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(options.catalog_channel,
                             MakeServiceChannel(options.catalog_address, options.security));
  }
  if (!options.download_channel_factory) {
    options.download_channel_factory = DownloadChannelFactory(options.security);
  }
  if (options.key_store == nullptr) return missing("key_store");
  if (options.installer == nullptr) return missing("installer");
  if (options.state_dir.empty()) return missing("state_dir");
  if (!options.consent) return missing("consent");
  absl::StatusOr<Ed25519KeyPair> key = options.key_store->LoadOrGenerate();
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("cannot load the device key: ", key.status().message()));
  }
  absl::StatusOr<PublisherKeys> publishers =
      PublisherKeys::FromRawKeys(options.trusted_publisher_keys);
  if (!publishers.ok()) return publishers.status();
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(options.state_dir);
  if (!state.ok()) return state.status();
  auto client =
      std::unique_ptr<Client>(new Client(std::move(options), *std::move(key), *std::move(state)));
  client->publisher_keys_ = *std::move(publishers);
  return client;
}

Client::Client(Options options, Ed25519KeyPair key, std::unique_ptr<StateStore> state)
    : options_(std::move(options)), key_(std::move(key)), state_(std::move(state)) {
  if (options_.clock == nullptr) options_.clock = &real_clock_;
  auth_ = v1::Auth::NewStub(options_.auth_channel);
  catalog_ = v1::DeviceCatalog::NewStub(options_.catalog_channel);
}

void Client::Emit(ProgressEvent event) const {
  if (options_.on_progress) options_.on_progress(event);
}

absl::Status Client::Login() {
  const absl::Time now = options_.clock->Now();
  if (!token_.empty() && now < token_renew_at_) return absl::OkStatus();
  token_.clear();
  const std::string& id = options_.device_id;

  // Single use: taken out whatever happens.
  std::optional<v1::Challenge> next = std::move(next_challenge_);
  next_challenge_.reset();
  if (next.has_value() && now < absl::FromUnixSeconds(next->expires_at_unix())) {
    absl::Status s = LoginWith(next->nonce(), now);
    // Anything but UNAUTHENTICATED (used, expired, auth lost it) is the
    // answer; that one means: fall back once to a fresh challenge.
    if (s.code() != absl::StatusCode::kUnauthenticated) return s;
  }

  v1::GetChallengeRequest challenge_request;
  challenge_request.set_device_id(id);
  v1::Challenge challenge;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx, options_.rpc_timeout);
    grpc::Status s = auth_->GetChallenge(&ctx, challenge_request, &challenge);
    if (!s.ok())
      return Prefixed(s, absl::StrCat("login of device ", id, " failed at GetChallenge"));
  }
  if (challenge.nonce().empty()) {
    return absl::InternalError(absl::StrCat("auth sent device ", id, " an empty challenge"));
  }
  return LoginWith(challenge.nonce(), now);
}

absl::Status Client::LoginWith(const std::string& nonce, absl::Time now) {
  const std::string& id = options_.device_id;
  absl::StatusOr<std::string> signature = key_->Sign(LoginMessage(id, nonce));
  if (!signature.ok()) return signature.status();

  v1::LoginRequest login;
  login.set_device_id(id);
  login.set_nonce(nonce);
  login.set_signature(*signature);
  v1::LoginResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx, options_.rpc_timeout);
  grpc::Status s = auth_->Login(&ctx, login, &response);
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return absl::UnauthenticatedError(absl::StrCat(
        "auth rejected the login of device ", id, ": ", s.error_message(),
        ". Check that the public key registered for ", id, " is this device's key (key id ",
        KeyIdFor(key_->public_key()), ", ", absl::WebSafeBase64Escape(key_->public_key()), ")"));
  }
  if (!s.ok()) return Prefixed(s, absl::StrCat("login of device ", id, " failed"));
  const absl::Time expires = absl::FromUnixSeconds(response.expires_at_unix());
  if (response.access_token().empty() || expires <= now) {
    return absl::InternalError(absl::StrCat("auth returned no usable token for device ", id,
                                            " (expires ", absl::FormatTime(expires),
                                            "; is the device clock right?)"));
  }
  token_ = response.access_token();
  token_renew_at_ = expires - std::min(options_.token_refresh_margin, (expires - now) / 4);
  if (response.has_next_challenge() && !response.next_challenge().nonce().empty()) {
    next_challenge_ = response.next_challenge();
  }
  ProgressEvent event;
  event.step = ProgressEvent::Step::kLoggedIn;
  event.token_lifetime = expires - now;
  Emit(event);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Client::AccessToken() {
  UPDRAFT_RETURN_IF_ERROR(Login());
  return token_;
}

grpc::Status Client::WithToken(const std::function<grpc::Status(grpc::ClientContext&)>& rpc,
                               absl::Status* login_error) {
  grpc::Status s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::string> token = AccessToken();
    if (!token.ok()) {
      *login_error = token.status();
      return ToGrpcStatus(token.status());
    }
    grpc::ClientContext ctx;
    SetDeadline(ctx, options_.rpc_timeout);
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *token));
    s = rpc(ctx);
    if (s.error_code() != grpc::StatusCode::UNAUTHENTICATED) return s;
    token_.clear();  // Revoked or expired early: log in again, once.
  }
  return s;
}

absl::StatusOr<std::vector<v1::Offer>> Client::CheckForUpdates() {
  absl::StatusOr<v1::CheckForUpdatesResponse> response = Check();
  if (!response.ok()) return response.status();
  return std::vector<v1::Offer>(response->offers().begin(), response->offers().end());
}

absl::StatusOr<v1::CheckForUpdatesResponse> Client::Check() {
  v1::CheckForUpdatesRequest request;
  for (v1::InventoryComponent& c : InventoryOf(state_->Snapshot())) {
    *request.add_inventory() = std::move(c);
  }
  *request.mutable_attributes() = options_.attributes;
  v1::CheckForUpdatesResponse response;
  absl::Status login_error;
  grpc::Status s = WithToken(
      [&](grpc::ClientContext& ctx) { return catalog_->CheckForUpdates(&ctx, request, &response); },
      &login_error);
  if (!login_error.ok()) return login_error;
  if (!s.ok()) return Prefixed(s, "catalog CheckForUpdates failed");
  return response;
}

absl::StatusOr<std::vector<UpdateOutcome>> Client::RunActiveUpgrade() {
  // Reports of an earlier run go first; if the catalog is still down they
  // stay pending and CheckForUpdates below says so.
  ResendPendingReports().IgnoreError();
  absl::StatusOr<v1::CheckForUpdatesResponse> checked = Check();
  if (!checked.ok()) return checked.status();
  // Offers first, then the per-component operations (client_operations.cc);
  // an operation executed before is skipped (no outcome).
  const auto& offers = checked->offers();
  const int count = offers.size() + checked->operations_size();
  std::vector<UpdateOutcome> outcomes;
  for (int i = 0; i < offers.size(); ++i) outcomes.push_back(HandleOffer(offers[i], i + 1, count));
  for (int i = 0; i < checked->operations_size(); ++i) {
    UpdateOutcome out = HandleOperation(checked->operations(i), offers.size() + i + 1, count);
    if (!out.operation_id.empty()) outcomes.push_back(std::move(out));
  }
  if (outcomes.empty()) {
    UpdateOutcome nothing;
    nothing.nothing_new = true;
    nothing.message = absl::StrCat("nothing new: all ", state_->Snapshot().deployed_size(),
                                   " installed components are up to date");
    if (options_.on_result) options_.on_result(nothing);
    outcomes.push_back(std::move(nothing));
  }
  return outcomes;
}

absl::StatusOr<std::string> Client::Download(const v1::Offer& offer, Downloader& downloader) {
  const v1::Release& r = offer.release();
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::string> token = AccessToken();
    if (!token.ok()) return WithResultCode(token.status(), v1::DOWNLOAD_AUTHENTICATION_FAILED);
    absl::StatusOr<std::string> path = downloader.Fetch(
        r.release_id(), r.artifact(), *token,
        std::vector<std::string>(offer.http_urls().begin(), offer.http_urls().end()));
    if (attempt == 0 && absl::IsUnauthenticated(path.status())) {
      token_.clear();  // Log in again and resume where the download stopped.
      continue;
    }
    return path;
  }
}

UpdateOutcome Client::HandleOffer(const v1::Offer& offer, int index, int count,
                                  const std::string& operation_id, const std::string& dc_id) {
  const v1::Release& r = offer.release();
  UpdateOutcome out;
  out.operation_id = operation_id;
  out.dc_id = dc_id;
  if (!operation_id.empty()) out.operation_kind = v1::ComponentOperation::UPDATE;
  out.release = r;
  out.release.mutable_artifact()->clear_chunk_sha256();
  out.kind = offer.kind();
  ProgressEvent event;
  event.offer = &offer;
  event.offer_index = index;
  event.offer_count = count;
  auto emit = [&](ProgressEvent::Step step) {
    event.step = step;
    Emit(event);
  };
  auto fail = [&](const absl::Status& s, v1::ResultCode fallback) {
    out.result = ResultCodeOf(s, fallback);
    out.message = std::string(s.message());
    return Finish(std::move(out), &offer, index, count);
  };
  emit(ProgressEvent::Step::kFoundUpdate);

  absl::Status valid = VerifyReleaseTrust(r, publisher_keys_, options_.clock->Now());
  if (valid.ok()) valid = ValidateOffer(offer, state_->Snapshot());
  if (!valid.ok()) return fail(valid, v1::PACKAGE_VALIDATION_FAILED);
  if (!options_.consent(offer)) {
    out.result = v1::USER_CANCELLED;
    out.message = absl::StrCat("the user declined ", r.package_name(), " ", r.version());
    return Finish(std::move(out), &offer, index, count);
  }
  emit(ProgressEvent::Step::kConsented);

  const std::string target = options_.download_target_override.empty()
                                 ? offer.download_target()
                                 : options_.download_target_override;
  if (target.empty() && offer.http_urls().empty()) {
    return fail(absl::InvalidArgumentError(
                    absl::StrCat("offer of ", r.release_id(), " names no download server")),
                v1::DOWNLOAD_FAILED);
  }
  // Without a channel the HTTP sources, if any, remain.
  std::shared_ptr<grpc::Channel> channel =
      target.empty() ? nullptr : options_.download_channel_factory(target);
  if (channel == nullptr && offer.http_urls().empty()) {
    return fail(absl::UnavailableError(absl::StrCat("no channel to download server ", target)),
                v1::DOWNLOAD_SERVER_UNAVAILABLE);
  }
  std::unique_ptr<v1::Download::StubInterface> stub;
  if (channel != nullptr) stub = v1::Download::NewStub(channel);
  Downloader::Options dl;
  dl.stub = stub.get();
  dl.http.ca_file = options_.http_ca_file;
  dl.http.client_cert_file = options_.security.client_cert_file;
  dl.http.client_key_file = options_.security.client_key_file;
  dl.http.allow_plain_http = options_.security.plaintext;
  dl.state = state_.get();
  dl.max_stream_retries = options_.max_stream_retries;
  dl.retry_backoff = options_.retry_backoff;
  dl.sleep = options_.sleep;
  // Signed metadata vouches for the chunk hashes: verifying each chunk
  // suffices, without a second pass over the whole artifact.
  dl.verify_whole_file = publisher_keys_.empty();
  dl.on_progress = [&](const DownloadProgressInfo& p) {
    event.download = p;
    emit(ProgressEvent::Step::kDownloading);
  };
  absl::StatusOr<std::unique_ptr<Downloader>> downloader = Downloader::Create(std::move(dl));
  if (!downloader.ok()) return fail(downloader.status(), v1::DOWNLOAD_FAILED);
  absl::StatusOr<std::string> artifact = Download(offer, **downloader);
  // On failure the verified chunks stay for the next attempt to resume from.
  if (!artifact.ok()) return fail(artifact.status(), v1::DOWNLOAD_FAILED);
  emit(ProgressEvent::Step::kVerified);
  absl::Status s = state_->Update([&](v1::DeviceLocalState& st) {
    RecordDelivered(st, r);
    return absl::OkStatus();
  });
  if (!s.ok()) return fail(s, v1::DOWNLOAD_FAILED);

  absl::StatusOr<InstallResult> installed =
      options_.installer->Install(r.package_name(), *artifact, r);
  (*downloader)->Discard(r.artifact().sha256()).IgnoreError();
  if (!installed.ok()) {
    state_
        ->Update([&](v1::DeviceLocalState& st) {
          RemoveDelivered(st, r.release_id());
          return absl::OkStatus();
        })
        .IgnoreError();
    return fail(installed.status(), v1::INSTALL_FAILED);
  }
  out.kind = installed->kind;
  out.install_location = installed->location;
  event.install_location = installed->location;
  event.settings_applied = installed->settings_applied;
  emit(ProgressEvent::Step::kInstalled);
  emit(ProgressEvent::Step::kConfigured);

  // The Deployed nodes and the report of the success are persisted together:
  // after a crash the success is still reported, with the same report_id.
  std::vector<std::string> dc_ids;
  v1::LocalPendingReport report;
  s = state_->Update([&](v1::DeviceLocalState& st) {
    dc_ids = RecordInstalled(st, r);
    if (!operation_id.empty()) MarkOperationDone(st, operation_id);
    out.dc_ids = dc_ids;
    out.result = v1::SUCCESS;
    out.message = absl::StrCat(out.kind == v1::OVERWRITE ? "upgraded " : "installed ",
                               r.package_name(), " ", r.version());
    if (!dc_ids.empty()) {
      absl::StrAppend(&out.message, "; components ", absl::StrJoin(dc_ids, ", "));
    }
    report = NewReport(out, st);
    *st.add_pending_reports() = report;
    return absl::OkStatus();
  });
  if (!s.ok()) {
    out.dc_ids.clear();
    return fail(absl::Status(s.code(), absl::StrCat("installed but cannot record the components: ",
                                                    s.message())),
                v1::INSTALL_FAILED);
  }
  event.dc_ids = dc_ids;
  emit(ProgressEvent::Step::kComponentsRegistered);
  return Finish(std::move(out), &offer, index, count, std::move(report));
}

v1::LocalPendingReport Client::NewReport(UpdateOutcome& out,
                                         const v1::DeviceLocalState& state) const {
  out.report_id = absl::BytesToHexString(RandomBytes(16));
  v1::LocalPendingReport pending;
  v1::ReportResultRequest* request = pending.mutable_request();
  request->set_report_id(out.report_id);
  request->set_release_id(out.release.release_id());
  request->set_result(out.result);
  request->set_message(ReportMessage(out.message));
  *request->mutable_deployed() = state.deployed();
  request->set_operation_id(out.operation_id);
  if (out.result == v1::SUCCESS && !out.install_location.empty()) {
    *request->mutable_applied_settings() = out.release.settings();
  }
  pending.set_kind(out.kind);
  *pending.mutable_release() = out.release;
  for (const std::string& id : out.dc_ids) pending.add_dc_ids(id);
  pending.set_install_location(out.install_location);
  return pending;
}

UpdateOutcome Client::Finish(UpdateOutcome out, const v1::Offer* offer, int index, int count,
                             std::optional<v1::LocalPendingReport> persisted_report) {
  absl::Status persisted;
  v1::LocalPendingReport pending;
  if (persisted_report.has_value()) {
    pending = *std::move(persisted_report);
  } else {
    pending = NewReport(out, state_->Snapshot());
    persisted = state_->Update([&](v1::DeviceLocalState& st) {
      *st.add_pending_reports() = pending;
      return absl::OkStatus();
    });
  }
  bool duplicate = false;
  std::string error;
  absl::Status sent = SendReport(pending, &duplicate, &error);
  if (sent.ok() && error.empty()) {
    out.reported = true;
    ProgressEvent event;
    event.step = ProgressEvent::Step::kReported;
    event.offer = offer;
    event.offer_index = index;
    event.offer_count = count;
    event.result = out.result;
    event.report_id = out.report_id;
    event.duplicate = duplicate;
    event.release = out.release;
    Emit(event);
  } else {
    out.report_error = sent.ok() ? error : std::string(sent.message());
    if (!persisted.ok()) {
      absl::StrAppend(&out.report_error,
                      "; the report could not be saved for a retry either: ", persisted.message());
    }
  }
  if (options_.on_result) options_.on_result(out);
  return out;
}

absl::Status Client::SendReport(const v1::LocalPendingReport& report, bool* duplicate,
                                std::string* error) {
  v1::ReportResultResponse response;
  absl::Status login_error;
  grpc::Status s = WithToken(
      [&](grpc::ClientContext& ctx) {
        return catalog_->ReportResult(&ctx, report.request(), &response);
      },
      &login_error);
  if (!login_error.ok()) return login_error;
  if (!s.ok() && ReportRetryable(s.error_code())) {
    return Prefixed(s, "catalog ReportResult failed; the report will be re-sent");
  }
  if (!s.ok()) *error = absl::StrCat("catalog rejected the report: ", s.error_message());
  *duplicate = response.duplicate();
  const std::string id = report.request().report_id();
  return state_->Update([&](v1::DeviceLocalState& st) {
    auto* p = st.mutable_pending_reports();
    p->erase(std::remove_if(p->begin(), p->end(),
                            [&](const auto& r) { return r.request().report_id() == id; }),
             p->end());
    return absl::OkStatus();
  });
}

absl::StatusOr<int> Client::ResendPendingReports() {
  const v1::DeviceLocalState snapshot = state_->Snapshot();
  absl::Status first_error;
  for (const v1::LocalPendingReport& report : snapshot.pending_reports()) {
    bool duplicate = false;
    std::string error;
    absl::Status s = SendReport(report, &duplicate, &error);
    if (!s.ok()) {
      if (first_error.ok()) first_error = s;
      continue;
    }
    if (!error.empty()) continue;
    ProgressEvent event;
    event.step = ProgressEvent::Step::kReported;
    event.result = report.request().result();
    event.report_id = report.request().report_id();
    event.duplicate = duplicate;
    event.resent = true;
    event.release = report.release();
    Emit(event);
  }
  if (!first_error.ok()) return first_error;
  return state_->Snapshot().pending_reports_size();
}

}  // namespace updraft::device
