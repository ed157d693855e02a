#include "services/catalog/campaign_webhooks.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "google/protobuf/util/json_util.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {

std::string SignWebhook(const std::string& secret, int64_t timestamp, const std::string& body) {
  std::string message = absl::StrCat(timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return absl::StrCat("sha256=",
                      absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), len)));
}

std::string WebhookBody(const v1::CampaignEvent& event) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(event, &json, options).ok()) return "{}";
  return json;
}

absl::Status ValidateWebhook(const v1::CreateWebhookRequest& request, bool allow_plain_http) {
  UPDRAFT_RETURN_IF_ERROR(ValidateText("url", request.url(), 2048, true));
  const bool https = absl::StartsWith(request.url(), "https://");
  const bool http = absl::StartsWith(request.url(), "http://");
  if (!https && !(http && allow_plain_http)) {
    return absl::InvalidArgumentError(absl::StrCat("url must start with https://",
                                                   allow_plain_http ? " or http://" : "",
                                                   ", got \"", request.url(), "\""));
  }
  size_t host_start = request.url().find("://") + 3;
  if (host_start >= request.url().size() || request.url()[host_start] == '/') {
    return absl::InvalidArgumentError("url has no host");
  }
  for (char c : request.url()) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError("url must not contain spaces or control characters");
    }
  }
  if (request.secret().size() < 16 || request.secret().size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret must be 16 to 256 bytes, got ", request.secret().size()));
  }
  if (!request.campaign_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("campaign_id", request.campaign_id(), kMaxIdLength));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WebhookDispatcher>> WebhookDispatcher::Create(Options options) {
  if (options.store == nullptr || options.sender == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("WebhookDispatcher needs a store, a sender and a clock");
  }
  if (options.max_attempts < 1 || options.batch < 1 ||
      options.base_backoff <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "WebhookDispatcher needs positive max_attempts, batch and base_backoff");
  }
  return std::unique_ptr<WebhookDispatcher>(new WebhookDispatcher(std::move(options)));
}

absl::Duration WebhookDispatcher::Backoff(int attempts) const {
  absl::Duration d = options_.base_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

absl::StatusOr<int> WebhookDispatcher::RunOnce() {
  const absl::Time now = options_.clock->Now();
  UPDRAFT_ASSIGN_OR_RETURN(
      std::vector<WebhookDelivery> due,
      options_.store->ClaimDeliveries(now, now + options_.lease, options_.batch));
  int delivered = 0;
  for (const WebhookDelivery& d : due) {
    const std::string body = WebhookBody(d.event);
    const int64_t timestamp = absl::ToUnixSeconds(options_.clock->Now());
    std::map<std::string, std::string> headers = {
        {"Content-Type", "application/json"},
        {"X-Updraft-Event-Id", absl::StrCat(d.event.event_id())},
        {"X-Updraft-Timestamp", absl::StrCat(timestamp)},
        {"X-Updraft-Signature", SignWebhook(d.secret, timestamp, body)},
    };
    absl::StatusOr<int> code = options_.sender->Post(d.url, headers, body);
    const bool ok = code.ok() && *code >= 200 && *code < 300;
    const int attempts = d.attempts + 1;
    const bool give_up = !ok && attempts >= options_.max_attempts;
    std::string error;
    if (!ok) error = code.ok() ? absl::StrCat("HTTP ", *code) : code.status().ToString();
    UPDRAFT_RETURN_IF_ERROR(options_.store->FinishDelivery(
        d.delivery_id, ok, give_up, now + Backoff(attempts), error, options_.clock->Now()));
    if (ok) ++delivered;
    if (options_.metrics != nullptr) {
      options_.metrics->CountWebhook(ok ? "delivered" : give_up ? "gave_up" : "retry");
    }
    if (!ok && options_.logger != nullptr) {
      options_.logger->Warning("campaign webhook delivery failed",
                               {{"url", d.url},
                                {"event_id", absl::StrCat(d.event.event_id())},
                                {"attempts", absl::StrCat(attempts)},
                                {"error", error}});
    }
  }
  return delivered;
}

}  // namespace updraft::catalog
