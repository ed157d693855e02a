#ifndef UPDRAFT_SERVICES_CATALOG_PENDING_OPERATION_INDEX_H_
#define UPDRAFT_SERVICES_CATALOG_PENDING_OPERATION_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace updraft::catalog {

// Which devices may have component operations not yet reported, held in
// memory by every catalog replica so that an update check of a device with
// none (nearly every check) costs no database read. Marked when an operation
// is queued (locally, and on other replicas through PostgreSQL NOTIFY, see
// PgReleaseListener), reloaded in full at start and after a lost listener
// connection, and cleared for a device when a read finds nothing open.
// A device may be marked needlessly (one extra read); never the reverse,
// provided every queue marks before its transaction's NOTIFY is lost.
class PendingOperationIndex {
 public:
  // Replaces the whole set (e.g. from OperationStore::DevicesWithOpenOperations).
  void Reset(const std::vector<std::string>& device_ids);
  // The device may have open operations.
  void Mark(const std::string& device_id);
  // 0 when the device has no open operations; otherwise a token to pass to
  // ClearIfUnchanged after reading the device's operations.
  uint64_t MarkOf(const std::string& device_id) const;
  // Forgets the device unless it was marked again since MarkOf returned
  // `seen` (an operation queued while the caller was reading).
  void ClearIfUnchanged(const std::string& device_id, uint64_t seen);
  size_t size() const;
  // Blocks until the device is marked, at most `timeout`; whether it is.
  bool WaitForMark(const std::string& device_id, absl::Duration timeout) const;

 private:
  mutable absl::Mutex mu_;
  uint64_t next_mark_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, uint64_t> marks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PENDING_OPERATION_INDEX_H_
