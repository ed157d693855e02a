#ifndef UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_
#define UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_

#include "gmock/gmock.h"
#include "services/notifier/device_router.h"
#include "services/notifier/gateway.h"
#include "services/notifier/outbox_store.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

class MockSmsGateway : public SmsGateway {
 public:
  MOCK_METHOD(absl::Status, SendBinary, (const std::string& msisdn, const std::string& payload),
              (override));
};

class MockWapPushGateway : public WapPushGateway {
 public:
  MOCK_METHOD(absl::Status, Send, (const Push& push), (override));
};

// A DeviceRouter for one replica: devices present are those with a stream
// in the local hub.
class LocalDeviceRouter : public DeviceRouter {
 public:
  explicit LocalDeviceRouter(SubscriberHub* hub) : hub_(hub) {}
  absl::Status Register(const std::string&) override { return absl::OkStatus(); }
  void Unregister(const std::string&) override {}
  absl::StatusOr<Routed> Route(const std::vector<std::string>& device_ids,
                               const v1::Notification& n) override {
    Routed r;
    for (const std::string& d : device_ids) {
      if (hub_->SendTo(d, n)) r.devices.insert(d);
    }
    r.replicas = r.devices.empty() ? 0 : 1;
    return r;
  }

 private:
  SubscriberHub* hub_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_
