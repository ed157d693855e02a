#ifndef UPDRAFT_SERVICES_NOTIFIER_GATEWAY_H_
#define UPDRAFT_SERVICES_NOTIFIER_GATEWAY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace updraft::notifier {

// Sends a signed notification as a binary SMS to an application port (one
// SMS, or a concatenated one when it is longer than 133 bytes).
class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // UNAVAILABLE when the gateway cannot be reached or refuses.
  virtual absl::Status SendBinary(const std::string& msisdn, const std::string& payload) = 0;
};

// Sends a WAP Push Service Indication whose href carries the notification.
class WapPushGateway {
 public:
  virtual ~WapPushGateway() = default;
  struct Push {
    std::string msisdn;
    std::string push_id;  // unique per push
    std::string href;
    std::string text;  // shown to the user
    absl::Time created;
    absl::Time expires;
  };
  virtual absl::Status Send(const Push& push) = 0;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_GATEWAY_H_
