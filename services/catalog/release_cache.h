#ifndef UPDRAFT_SERVICES_CATALOG_RELEASE_CACHE_H_
#define UPDRAFT_SERVICES_CATALOG_RELEASE_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/update_decider.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// An immutable view of every public (published or withdrawn) release, with
// the decision index built once. Shared by concurrent update checks.
struct ReleaseSnapshot {
  explicit ReleaseSnapshot(std::vector<v1::Release> list);

  // Counts reloads of the cache that made it; 0 for the initial empty one.
  uint64_t generation = 0;
  absl::flat_hash_map<std::string, v1::Release> releases;
  ReleaseIndex index;
};

// The decider's view of a stored release. Compatibility rules that do not
// parse (never stored by CatalogService) make the release unofferable.
CatalogRelease ToCatalogRelease(const v1::Release& release);

// The in-memory release snapshot that answers update checks: Current() is a
// lock-protected shared_ptr copy; Reload() reads the store, builds a new
// snapshot and swaps it in. Reloads are serialized, so an older read never
// replaces a newer one. Whoever learns of a change calls Reload():
// CatalogService after its own publish/withdraw, PgReleaseListener on a
// NOTIFY from another replica, and periodically.
class ReleaseCache {
 public:
  explicit ReleaseCache(CatalogStore* store);

  absl::Status Reload();
  std::shared_ptr<const ReleaseSnapshot> Current() const;
  // Waits until `ready(current snapshot)` holds, at most `timeout`; returns
  // whether it held. Re-checked after every reload.
  bool WaitFor(const std::function<bool(const ReleaseSnapshot&)>& ready, absl::Duration timeout);

 private:
  CatalogStore* const store_;
  absl::Mutex reload_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ReleaseSnapshot> current_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(reload_mu_) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_RELEASE_CACHE_H_
