#include "sdk/device/push_handler.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "sdk/device/file_util.h"

namespace updraft::device {
namespace {

constexpr char kKeyFileName[] = "notification_keys";

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace

absl::StatusOr<std::string> SiHref(absl::string_view href_or_si) {
  absl::string_view in = absl::StripAsciiWhitespace(href_or_si);
  if (in.empty()) return absl::InvalidArgumentError("WAP Push SI is empty");
  if (in.front() != '<') return std::string(in);
  size_t at = in.find("<indication");
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError("WAP Push SI has no <indication> element");
  }
  size_t attr = in.find("href=", at);
  size_t end_tag = in.find('>', at);
  if (attr == absl::string_view::npos || attr > end_tag || attr + 5 >= in.size()) {
    return absl::InvalidArgumentError("WAP Push SI <indication> has no href attribute");
  }
  const char quote = in[attr + 5];
  if (quote != '"' && quote != '\'') {
    return absl::InvalidArgumentError("WAP Push SI href attribute is not quoted");
  }
  size_t close = in.find(quote, attr + 6);
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("WAP Push SI href attribute is not terminated");
  }
  return absl::StrReplaceAll(
      in.substr(attr + 6, close - attr - 6),
      {{"&amp;", "&"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}});
}

absl::StatusOr<std::string> NotificationFromSi(absl::string_view href_or_si) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string href, SiHref(href_or_si));
  absl::StatusOr<std::string> bytes = NotificationFromHref(href);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("WAP Push SI rejected: ", bytes.status().message()));
  }
  return bytes;
}

absl::StatusOr<std::unique_ptr<PushHandler>> PushHandler::Create(Options options) {
  if (options.client == nullptr) {
    return absl::InvalidArgumentError("PushHandler::Options.client is required");
  }
  if (options.state_dir.empty()) {
    return absl::InvalidArgumentError("PushHandler::Options.state_dir is required");
  }
  if (options.notifier_channel == nullptr) {
    if (options.notifier_address.empty()) {
      return absl::InvalidArgumentError(
          "PushHandler::Options.notifier_channel or notifier_address is required");
    }
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        MakeStreamChannel(options.notifier_address, options.security);
    if (!channel.ok()) {
      return absl::Status(channel.status().code(), absl::StrCat("PushHandler::Options.security: ",
                                                                channel.status().message()));
    }
    options.notifier_channel = *std::move(channel);
  }
  for (const std::string& k : options.trusted_keys) {
    if (k.size() != kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("PushHandler::Options.trusted_keys: a key has ", k.size(),
                       " bytes, expected ", kEd25519PublicKeySize));
    }
  }
  UPDRAFT_RETURN_IF_ERROR(MakeDirectories(options.state_dir));
  auto handler = std::unique_ptr<PushHandler>(new PushHandler(std::move(options)));
  absl::StatusOr<std::string> cached = ReadFileToString(handler->KeyFile());
  if (!cached.ok() && !absl::IsNotFound(cached.status())) return cached.status();
  if (cached.ok()) {
    absl::MutexLock lock(&handler->keys_mu_);
    for (absl::string_view line : absl::StrSplit(*cached, '\n', absl::SkipEmpty())) {
      std::string key;
      if (!absl::WebSafeBase64Unescape(line, &key) || key.size() != kEd25519PublicKeySize) {
        return absl::DataLossError(absl::StrCat("corrupt notification key cache ",
                                                handler->KeyFile(), ": delete it to refetch"));
      }
      handler->Trust(key);
    }
  }
  absl::StatusOr<std::string> seen = ReadFileToString(handler->SeenFile());
  if (!seen.ok() && !absl::IsNotFound(seen.status())) return seen.status();
  if (seen.ok()) {
    std::vector<std::pair<int64_t, std::string>> restored;
    for (absl::string_view line : absl::StrSplit(*seen, '\n', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, ' ');
      int64_t expires = 0;
      std::string id = absl::HexStringToBytes(parts.second);
      if (!absl::SimpleAtoi(parts.first, &expires) || id.empty() ||
          absl::BytesToHexString(id) != parts.second) {
        return absl::DataLossError(absl::StrCat("corrupt notification history ",
                                                handler->SeenFile(), ": delete it to reset"));
      }
      restored.emplace_back(expires, std::move(id));
    }
    handler->verifier_->RestoreSeen(restored);
  }
  return handler;
}

PushHandler::PushHandler(Options options) : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = &real_clock_;
  notifier_ = v1::Notifier::NewStub(options_.notifier_channel);
  NotificationVerifier::Options v;
  v.clock = options_.clock;
  v.max_clock_skew = options_.max_clock_skew;
  verifier_ = std::make_unique<NotificationVerifier>(std::move(v));
  absl::MutexLock lock(&keys_mu_);
  for (const std::string& k : options_.trusted_keys) Trust(k);
}

std::string PushHandler::KeyFile() const {
  return absl::StrCat(options_.state_dir, "/", kKeyFileName);
}

void PushHandler::Trust(const std::string& key) {
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return;
  keys_.push_back(key);
  verifier_->AddTrustedKey(key);
}

std::vector<std::string> PushHandler::TrustedKeys() const {
  absl::MutexLock lock(&keys_mu_);
  return keys_;
}

absl::Status PushHandler::RefreshKeys() {
  v1::GetNotificationKeysResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx, options_.rpc_timeout);
  grpc::Status s =
      notifier_->GetNotificationKeys(&ctx, v1::GetNotificationKeysRequest(), &response);
  absl::MutexLock lock(&keys_mu_);
  last_refresh_ = options_.clock->Now();
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(),
                        absl::StrCat("notifier GetNotificationKeys failed: ", s.error_message()));
  }
  std::vector<std::string> fetched;
  for (const std::string& k : response.public_keys()) {
    if (k.size() != kEd25519PublicKeySize) {
      return absl::InternalError(absl::StrCat("notifier sent a notification key of ", k.size(),
                                              " bytes; expected ", kEd25519PublicKeySize));
    }
    fetched.push_back(absl::WebSafeBase64Escape(k));
  }
  for (const std::string& k : response.public_keys()) Trust(k);
  // The cache holds what the notifier uses now; provisioned keys stay in
  // Options and keys already trusted stay trusted until restart.
  return WriteFileAtomically(KeyFile(), absl::StrCat(absl::StrJoin(fetched, "\n"), "\n"), 0600);
}

absl::StatusOr<NotificationFields> PushHandler::Verify(absl::string_view signed_bytes) {
  if (signed_bytes.empty()) return absl::InvalidArgumentError("notification is empty");
  absl::StatusOr<NotificationFields> fields = verifier_->Accept(signed_bytes);
  if (absl::IsUnauthenticated(fields.status()) &&
      absl::StrContains(fields.status().message(), "unknown key")) {
    bool due;
    {
      absl::MutexLock lock(&keys_mu_);
      due = options_.clock->Now() - last_refresh_ >= options_.key_refresh_interval;
    }
    if (due) {
      absl::Status refreshed = RefreshKeys();
      if (!refreshed.ok()) {
        return absl::UnauthenticatedError(
            absl::StrCat("notification signed by a key this device does not know, and the "
                         "notifier's keys could not be fetched: ",
                         refreshed.message()));
      }
      fields = verifier_->Accept(signed_bytes);
    }
  }
  if (!fields.ok()) {
    return absl::Status(fields.status().code(),
                        absl::StrCat("notification rejected: ", fields.status().message()));
  }
  UPDRAFT_RETURN_IF_ERROR(SaveSeen());
  return fields;
}

std::string PushHandler::SeenFile() const {
  return absl::StrCat(options_.state_dir, "/seen_notifications");
}

absl::Status PushHandler::SaveSeen() {
  std::string text;
  for (const auto& [expires, id] : verifier_->SeenIds()) {
    absl::StrAppend(&text, expires, " ", absl::BytesToHexString(id), "\n");
  }
  return WriteFileAtomically(SeenFile(), text, 0600);
}

absl::StatusOr<std::string> PushHandler::AccessToken() {
  absl::MutexLock lock(&client_mu_);
  return options_.client->AccessToken();
}

void PushHandler::ForgetToken() {
  absl::MutexLock lock(&client_mu_);
  options_.client->ForgetToken();
}

absl::Status PushHandler::Acknowledge(const std::string& notification_id_hex) {
  grpc::Status s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::string> token = AccessToken();
    if (!token.ok()) return token.status();
    v1::AckRequest request;
    request.set_notification_id(notification_id_hex);
    v1::AckResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx, options_.rpc_timeout);
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *token));
    s = notifier_->Ack(&ctx, request, &response);
    if (s.error_code() != grpc::StatusCode::UNAUTHENTICATED) break;
    ForgetToken();
  }
  if (s.ok()) return absl::OkStatus();
  absl::Status status = FromGrpcStatus(s);
  return absl::Status(status.code(), absl::StrCat("notifier Ack of ", notification_id_hex,
                                                  " failed: ", s.error_message()));
}

absl::StatusOr<std::vector<UpdateOutcome>> PushHandler::RunActiveUpgrade() {
  absl::MutexLock lock(&client_mu_);
  return options_.client->RunActiveUpgrade();
}

void PushHandler::RunExclusive(const std::function<void(Client&)>& fn) {
  absl::MutexLock lock(&client_mu_);
  fn(*options_.client);
}

absl::StatusOr<PushResult> PushHandler::Handle(absl::string_view signed_bytes) {
  UPDRAFT_ASSIGN_OR_RETURN(NotificationFields fields, Verify(signed_bytes));
  PushResult result;
  result.notification_id = NotificationIdHex(fields.id);
  result.notification = std::move(fields);
  // The ack confirms receipt, before the (possibly long) flow, so the
  // notifier does not fall back to the next channel meanwhile.
  absl::Status acked = Acknowledge(result.notification_id);
  result.acked = acked.ok();
  if (!acked.ok()) result.ack_error = std::string(acked.message());
  if (options_.on_accepted) options_.on_accepted(result.notification, result.acked);
  result.outcomes = RunActiveUpgrade();
  return result;
}

absl::StatusOr<PushResult> PushHandler::HandleSmsPayload(absl::string_view payload) {
  return Handle(payload);
}

absl::StatusOr<PushResult> PushHandler::HandleWapPushSi(absl::string_view href_or_si) {
  UPDRAFT_ASSIGN_OR_RETURN(std::string bytes, NotificationFromSi(href_or_si));
  return Handle(bytes);
}

absl::StatusOr<PushResult> PushHandler::HandleIpPush(const v1::Notification& notification) {
  return Handle(notification.signed_());
}

}  // namespace updraft::device
