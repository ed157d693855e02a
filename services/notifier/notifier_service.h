#ifndef UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_
#define UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "services/notifier/announcement_bus.h"
#include "services/notifier/subscriber_hub.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// The notifier's domain logic, free of transport: validates and stamps
// announcements and hands them to the bus; opens and reads devices' IP Push
// streams, never handing out a notification past its expiry.
class NotifierService {
 public:
  struct Options {
    AnnouncementBus* bus = nullptr;
    SubscriberHub* hub = nullptr;
    const Clock* clock = nullptr;
    absl::Duration default_ttl = absl::Hours(24);
    absl::Duration max_ttl = absl::Hours(24 * 30);
  };
  static absl::StatusOr<std::unique_ptr<NotifierService>> Create(Options options);

  absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request);

  std::shared_ptr<Subscription> OpenStream(const std::string& device_id);
  void CloseStream(const std::shared_ptr<Subscription>& sub);
  // The next live notification for `sub`, skipping expired ones; nullopt on
  // timeout or when the stream was closed.
  std::optional<v1::Notification> NextFor(Subscription& sub, absl::Duration timeout);

 private:
  explicit NotifierService(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_
