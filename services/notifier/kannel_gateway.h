#ifndef UPDRAFT_SERVICES_NOTIFIER_KANNEL_GATEWAY_H_
#define UPDRAFT_SERVICES_NOTIFIER_KANNEL_GATEWAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/notifier/gateway.h"

namespace updraft::notifier {

// The application port a binary notification SMS is addressed to.
inline constexpr uint16_t kNotificationSmsPort = 16001;
// Payload bytes in one SMS after the port-addressing UDH (140 - 7).
inline constexpr size_t kSingleSmsPayload = 133;

// One SMS of a (possibly concatenated) binary message: UDH and data.
struct SmsPart {
  std::string udh;
  std::string data;
};

// Port-addressed parts for `payload`: one part when it fits 133 bytes, else
// 128-byte parts with a concatenation element (8-bit reference `ref`).
std::vector<SmsPart> SplitBinarySms(const std::string& payload, uint8_t ref);

// OK for "+" and 5 to 15 digits (E.164).
absl::Status ValidateMsisdn(const std::string& msisdn);

// The multipart/related PAP 2.0 push (PAP control entity + SI 1.0) and its
// Content-Type header value.
struct PapRequest {
  std::string content_type;
  std::string body;
};
PapRequest BuildPapPush(const WapPushGateway::Push& push);

// Kannel's smsbox sendsms HTTP interface (binary SMS: coding=1 and a UDH).
// A "0: Accepted" or "3: Queued" answer is success; anything else, or no
// answer, is UNAVAILABLE with what Kannel said.
class KannelSmsGateway : public SmsGateway {
 public:
  struct Options {
    std::string sendsms_url;  // e.g. http://127.0.0.1:13013/cgi-bin/sendsms
    std::string username;
    std::string password;
    std::string from = "12345";
    absl::Duration timeout = absl::Seconds(5);
  };
  explicit KannelSmsGateway(Options options) : options_(std::move(options)) {}
  absl::Status SendBinary(const std::string& msisdn, const std::string& payload) override;

 private:
  const Options options_;
};

// Kannel's Push Proxy Gateway (wapbox) PAP interface: HTTP 202 with PAP code
// 1001 is success.
class KannelWapPushGateway : public WapPushGateway {
 public:
  struct Options {
    std::string ppg_url;  // e.g. http://127.0.0.1:8080/wappush
    std::string username;
    std::string password;
    absl::Duration timeout = absl::Seconds(5);
  };
  explicit KannelWapPushGateway(Options options) : options_(std::move(options)) {}
  absl::Status Send(const Push& push) override;

 private:
  const Options options_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_KANNEL_GATEWAY_H_
