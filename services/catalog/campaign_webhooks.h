#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_WEBHOOKS_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_WEBHOOKS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/catalog/campaign_metrics.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// A webhook delivery due now: one event for one endpoint.
struct WebhookDelivery {
  int64_t delivery_id = 0;
  int attempts = 0;
  std::string url;
  std::string secret;
  v1::CampaignEvent event;
};

// Durable webhook endpoints and their delivery queue (a row per endpoint and
// event, written with the event; see CampaignTxn::AddEvent).
class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  virtual absl::Status CreateWebhook(const v1::Webhook& webhook, const std::string& secret) = 0;
  virtual absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks() = 0;
  // NOT_FOUND "webhook X not found". Its pending deliveries go with it.
  virtual absl::Status DeleteWebhook(const std::string& webhook_id) = 0;
  // Up to `limit` deliveries due at `now`, oldest first, leased until
  // `lease_until` so that no other replica sends them meanwhile.
  virtual absl::StatusOr<std::vector<WebhookDelivery>> ClaimDeliveries(absl::Time now,
                                                                       absl::Time lease_until,
                                                                       int limit) = 0;
  // Delivered; or attempted and failed (`error`): tried again at `next_at`
  // unless `give_up`.
  virtual absl::Status FinishDelivery(int64_t delivery_id, bool delivered, bool give_up,
                                      absl::Time next_at, const std::string& error,
                                      absl::Time now) = 0;
};

// Sends one HTTP POST; returns the HTTP status code, UNAVAILABLE when no
// response came (connection refused, timeout, TLS failure).
class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  virtual absl::StatusOr<int> Post(const std::string& url,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body) = 0;
};

// The signature header value: "sha256=" + hex HMAC-SHA256 with `secret` of
// "<timestamp>.<body>"; receivers recompute it and reject stale timestamps.
std::string SignWebhook(const std::string& secret, int64_t timestamp, const std::string& body);

// The JSON body of a delivery: the event in protobuf JSON form.
std::string WebhookBody(const v1::CampaignEvent& event);

// Validates a CreateWebhookRequest: https:// URL (http:// only when
// `allow_plain_http`), secret 16-256 bytes, campaign ID when set.
absl::Status ValidateWebhook(const v1::CreateWebhookRequest& request, bool allow_plain_http);

// Delivers queued campaign events to the registered endpoints: POST of
// WebhookBody with headers X-Updraft-Event-Id, X-Updraft-Timestamp and
// X-Updraft-Signature (SignWebhook). A 2xx answer is a delivery; anything
// else is retried with exponential backoff (base_backoff doubled per
// attempt, at most max_backoff) up to max_attempts.
class WebhookDispatcher {
 public:
  struct Options {
    WebhookStore* store = nullptr;
    WebhookSender* sender = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    CampaignMetrics* metrics = nullptr;
    int max_attempts = 8;
    absl::Duration base_backoff = absl::Seconds(10);
    absl::Duration max_backoff = absl::Hours(1);
    // How long a claimed delivery is hidden from other replicas.
    absl::Duration lease = absl::Minutes(2);
    int batch = 100;
  };
  static absl::StatusOr<std::unique_ptr<WebhookDispatcher>> Create(Options options);

  // Sends every delivery due now; returns how many were delivered.
  absl::StatusOr<int> RunOnce();
  // The wait before attempt `attempts` + 1.
  absl::Duration Backoff(int attempts) const;

 private:
  explicit WebhookDispatcher(Options options) : options_(std::move(options)) {}
  Options options_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_WEBHOOKS_H_
