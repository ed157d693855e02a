// Fuzzes what the device SDK reads back from its own storage and from the
// catalog: the state file (sdk/device/state_store.h, ReadStateFile), the
// device key file (common/crypto.h, ReadKeyFile) and offers checked against
// the local SCOMO tree (sdk/device/inventory.h, ValidateOffer and the
// Delivered/Deployed bookkeeping). The first byte picks the target.
//
// Invariants:
//  - state file: a torn or corrupted file is DATA_LOSS, never a crash; a file
//    that reads is written back (WriteStateFile) and reads again to the same
//    state: parse(serialize(x)) == x;
//  - key file: a key that reads is written back and reads the same;
//  - offers: a refused offer is INVALID_ARGUMENT or FAILED_PRECONDITION; after
//    an accepted offer is recorded as delivered then installed, its DC IDs are
//    the Deployed nodes it created, nothing of it stays Delivered, and the
//    same offer is then refused as a rollback (never installed twice).
#include <unistd.h>

#include <string>

#include "common/crypto.h"
#include "fuzz/fuzz_util.h"
#include "sdk/device/inventory.h"
#include "sdk/device/state_store.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/device_state.pb.h"

namespace updraft::device {
namespace {

enum Mode : uint8_t { kStateFile = 0, kKeyFile = 1, kOffer = 2, kModes = 3 };

const fuzz::TempDir& Dir() {
  static const fuzz::TempDir* d = new fuzz::TempDir("device-state-fuzz");
  return *d;
}

void WriteRaw(const std::string& path, absl::string_view bytes) {
  unlink(path.c_str());
  fuzz::WriteFileOrDie(path, bytes);
}

void CheckStateFile(absl::string_view bytes) {
  const std::string path = Dir().path() + "/" + StateStore::kFileName;
  WriteRaw(path, bytes);
  absl::StatusOr<v1::DeviceLocalState> state = ReadStateFile(path);
  if (!state.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsDataLoss(state.status()));
    return;
  }
  UPDRAFT_FUZZ_CHECK(WriteStateFile(path, *state).ok());
  absl::StatusOr<v1::DeviceLocalState> again = ReadStateFile(path);
  UPDRAFT_FUZZ_CHECK(again.ok());
  UPDRAFT_FUZZ_CHECK(again->SerializeAsString() == state->SerializeAsString());
}

void CheckKeyFile(absl::string_view bytes) {
  const std::string path = Dir().path() + "/device.key";
  WriteRaw(path, bytes);
  absl::StatusOr<std::string> key = ReadKeyFile(path);
  if (!key.ok()) return;
  unlink(path.c_str());
  UPDRAFT_FUZZ_CHECK(WriteKeyFile(path, *key).ok());
  absl::StatusOr<std::string> again = ReadKeyFile(path);
  UPDRAFT_FUZZ_CHECK(again.ok() && *again == *key);
}

void CheckOffer(fuzz::FuzzInput& in) {
  absl::string_view state_bytes = in.LengthPrefixed(/*wide=*/true);
  absl::string_view offer_bytes = in.Rest();
  v1::DeviceLocalState state;
  v1::Offer offer;
  if (!state.ParseFromArray(state_bytes.data(), static_cast<int>(state_bytes.size())) ||
      !offer.ParseFromArray(offer_bytes.data(), static_cast<int>(offer_bytes.size()))) {
    return;
  }
  (void)InventoryOf(state);
  absl::Status valid = ValidateOffer(offer, state);
  if (!valid.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(valid) || absl::IsFailedPrecondition(valid));
    return;
  }
  const v1::Release& r = offer.release();
  // Release IDs are unique in the catalog; a fuzzed state may still carry
  // nodes of another package under this ID, which the install leaves alone.
  bool foreign_nodes = false;
  for (const v1::InventoryComponent& c : state.deployed()) {
    foreign_nodes = foreign_nodes || c.release_id() == r.release_id();
  }
  RecordDelivered(state, r);
  int delivered = 0;
  for (const v1::InventoryComponent& c : state.delivered()) {
    if (c.release_id() == r.release_id()) ++delivered;
  }
  UPDRAFT_FUZZ_CHECK(delivered == 1);
  std::vector<std::string> ids = RecordInstalled(state, r);
  std::vector<std::string> expected;
  for (const v1::DcEntry& e : r.dcinfo().entries()) expected.push_back(e.dc_id());
  UPDRAFT_FUZZ_CHECK(ids == expected);
  for (const v1::InventoryComponent& c : state.delivered()) {
    UPDRAFT_FUZZ_CHECK(c.release_id() != r.release_id());
  }
  if (!foreign_nodes) {
    size_t created = 0;
    for (const v1::InventoryComponent& c : state.deployed()) {
      if (c.release_id() != r.release_id()) continue;
      ++created;
      UPDRAFT_FUZZ_CHECK(c.location() == v1::DEPLOYED && c.state() == v1::ACTIVE);
    }
    UPDRAFT_FUZZ_CHECK(created == std::max<size_t>(1, ids.size()));
  }
  absl::Status again = ValidateOffer(offer, state);
  UPDRAFT_FUZZ_CHECK_MSG(absl::IsFailedPrecondition(again),
                         "an installed release is offered and accepted again");
}

}  // namespace
}  // namespace updraft::device

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::fuzz::FuzzInput in(data, size);
  switch (in.Byte() % updraft::device::kModes) {
    case updraft::device::kStateFile:
      updraft::device::CheckStateFile(in.Rest());
      break;
    case updraft::device::kKeyFile:
      updraft::device::CheckKeyFile(in.Rest());
      break;
    case updraft::device::kOffer:
      updraft::device::CheckOffer(in);
      break;
  }
  return 0;
}
