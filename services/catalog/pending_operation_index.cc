#include "services/catalog/pending_operation_index.h"

namespace updraft::catalog {

void PendingOperationIndex::Reset(const std::vector<std::string>& device_ids) {
  absl::MutexLock lock(&mu_);
  marks_.clear();
  for (const std::string& id : device_ids) marks_[id] = next_mark_++;
}

void PendingOperationIndex::Mark(const std::string& device_id) {
  absl::MutexLock lock(&mu_);
  marks_[device_id] = next_mark_++;
}

uint64_t PendingOperationIndex::MarkOf(const std::string& device_id) const {
  absl::MutexLock lock(&mu_);
  auto it = marks_.find(device_id);
  return it == marks_.end() ? 0 : it->second;
}

void PendingOperationIndex::ClearIfUnchanged(const std::string& device_id, uint64_t seen) {
  absl::MutexLock lock(&mu_);
  auto it = marks_.find(device_id);
  if (it != marks_.end() && it->second == seen) marks_.erase(it);
}

bool PendingOperationIndex::WaitForMark(const std::string& device_id,
                                        absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto marked = [this, &device_id]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return marks_.contains(device_id); };
  return mu_.AwaitWithTimeout(absl::Condition(&marked), timeout);
}

size_t PendingOperationIndex::size() const {
  absl::MutexLock lock(&mu_);
  return marks_.size();
}

}  // namespace updraft::catalog
