#ifndef UPDRAFT_SERVICES_CATALOG_ANNOUNCER_H_
#define UPDRAFT_SERVICES_CATALOG_ANNOUNCER_H_

#include "absl/status/statusor.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::catalog {

// Tells devices that something awaits them (a release, a queued component
// operation, a campaign wave) through the notifier, which writes the
// announcement to its outbox and delivers it by IP Push, SMS or WAP Push.
// An announcement is only a hint: devices always check with the catalog, so
// a failed announcement delays an update and never changes what is offered.
class Announcer {
 public:
  virtual ~Announcer() = default;

  // Queues `request` for its targets; the implementation fills in
  // server_address (the catalog address devices check with) when empty.
  // UNAVAILABLE when the notifier cannot be reached.
  virtual absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_ANNOUNCER_H_
