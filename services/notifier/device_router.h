#ifndef UPDRAFT_SERVICES_NOTIFIER_DEVICE_ROUTER_H_
#define UPDRAFT_SERVICES_NOTIFIER_DEVICE_ROUTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// Presence (which replica holds a device's IP Push stream) and routing of a
// notification to that replica. The Redis implementation keeps presence as
// keys with a TTL and routes over one pub/sub channel per replica.
class DeviceRouter {
 public:
  virtual ~DeviceRouter() = default;
  // This replica now holds `device_id`'s stream.
  virtual absl::Status Register(const std::string& device_id) = 0;
  // It no longer does (only if it is still the registered replica).
  virtual void Unregister(const std::string& device_id) = 0;
  struct Routed {
    absl::flat_hash_set<std::string> devices;  // present on some replica
    int64_t replicas = 0;
  };
  // Hands `n` to the replicas holding these devices' streams.
  virtual absl::StatusOr<Routed> Route(const std::vector<std::string>& device_ids,
                                       const v1::Notification& n) = 0;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_DEVICE_ROUTER_H_
