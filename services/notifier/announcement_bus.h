#ifndef UPDRAFT_SERVICES_NOTIFIER_ANNOUNCEMENT_BUS_H_
#define UPDRAFT_SERVICES_NOTIFIER_ANNOUNCEMENT_BUS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// Carries an announcement to every notifier replica, each of which hands it
// to the streams it holds. The Redis implementation uses pub/sub; tests use
// one that delivers to a local hub directly.
class AnnouncementBus {
 public:
  virtual ~AnnouncementBus() = default;
  // Returns how many replicas received it.
  virtual absl::StatusOr<int64_t> Publish(const v1::Notification& n) = 0;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_ANNOUNCEMENT_BUS_H_
