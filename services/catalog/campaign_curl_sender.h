#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_CURL_SENDER_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_CURL_SENDER_H_

#include <map>
#include <string>

#include "absl/time/time.h"
#include "services/catalog/campaign_webhooks.h"

namespace updraft::catalog {

// WebhookSender over libcurl: HTTPS with certificate verification (system
// CAs, or `ca_file`), no redirects, bounded time per request. Plain http://
// URLs are refused unless `allow_plain_http` (tests).
class CurlWebhookSender : public WebhookSender {
 public:
  struct Options {
    absl::Duration timeout = absl::Seconds(10);
    std::string ca_file;
    bool allow_plain_http = false;
  };
  explicit CurlWebhookSender(Options options);
  ~CurlWebhookSender() override;

  absl::StatusOr<int> Post(const std::string& url,
                           const std::map<std::string, std::string>& headers,
                           const std::string& body) override;

 private:
  Options options_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_CURL_SENDER_H_
