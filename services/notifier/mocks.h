#ifndef UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_
#define UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_

#include "gmock/gmock.h"
#include "services/notifier/announcement_bus.h"
#include "services/notifier/subscriber_hub.h"

namespace updraft::notifier {

class MockAnnouncementBus : public AnnouncementBus {
 public:
  MOCK_METHOD(absl::StatusOr<int64_t>, Publish, (const v1::Notification& n), (override));
};

// An AnnouncementBus that delivers straight to one local hub, as if it were
// the only replica.
class LocalAnnouncementBus : public AnnouncementBus {
 public:
  explicit LocalAnnouncementBus(SubscriberHub* hub) : hub_(hub) {}
  absl::StatusOr<int64_t> Publish(const v1::Notification& n) override {
    hub_->Broadcast(n);
    return 1;
  }

 private:
  SubscriberHub* hub_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_MOCKS_H_
