// Fuzzes the catalog's checks of what devices send (services/catalog/
// validation.h): the inventory of CheckForUpdates and the Deployed list of a
// result report, decoded from protobuf wire bytes as gRPC would, and the
// UTF-8 / identifier checks under them.
//
// Invariants:
//  - IsValidUtf8 agrees with an independent RFC 3629 check on every input;
//  - ValidateText and ValidateIdentifier accept only what they promise;
//  - an accepted inventory has at most 1000 components, each within limits,
//    valid UTF-8, located DELIVERED or DEPLOYED;
//  - an accepted Deployed list has names and versions, unique {author, name},
//    and (with unset locations read as DEPLOYED) is an accepted inventory;
//  - refusals are INVALID_ARGUMENT.
#include <string>

#include "absl/strings/ascii.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/utf8_reference.h"
#include "services/catalog/validation.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {
namespace {

void CheckText(absl::string_view s) {
  UPDRAFT_FUZZ_CHECK_MSG(IsValidUtf8(s) == fuzz::ReferenceUtf8(s),
                         "IsValidUtf8 disagrees with RFC 3629");
  absl::Status text = ValidateText("f", s, 64, /*required=*/true);
  if (text.ok()) {
    UPDRAFT_FUZZ_CHECK(!s.empty() && s.size() <= 64 && fuzz::ReferenceUtf8(s));
    UPDRAFT_FUZZ_CHECK(s.find('\0') == absl::string_view::npos);
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(text));
  }
  absl::Status id = ValidateIdentifier("f", s, 64);
  if (id.ok()) {
    UPDRAFT_FUZZ_CHECK(!s.empty() && s.size() <= 64);
    for (char c : s) {
      UPDRAFT_FUZZ_CHECK(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-');
    }
  }
}

void CheckComponents(const google::protobuf::RepeatedPtrField<v1::InventoryComponent>& c) {
  absl::Status inventory = ValidateInventory("inventory", c);
  if (inventory.ok()) {
    UPDRAFT_FUZZ_CHECK(static_cast<size_t>(c.size()) <= kMaxInventoryComponents);
    for (const v1::InventoryComponent& x : c) {
      UPDRAFT_FUZZ_CHECK(x.location() == v1::DELIVERED || x.location() == v1::DEPLOYED);
      for (const std::string* s :
           {&x.dc_id(), &x.release_id(), &x.author(), &x.name(), &x.version()}) {
        UPDRAFT_FUZZ_CHECK(fuzz::ReferenceUtf8(*s));
      }
      UPDRAFT_FUZZ_CHECK(x.author().size() <= kMaxAuthorLength);
      UPDRAFT_FUZZ_CHECK(x.name().size() <= kMaxNameLength);
      UPDRAFT_FUZZ_CHECK(x.version().size() <= kMaxVersionLength);
    }
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(inventory));
  }
  absl::Status deployed = ValidateDeployed("deployed", c);
  if (deployed.ok()) {
    google::protobuf::RepeatedPtrField<v1::InventoryComponent> as_inventory = c;
    for (v1::InventoryComponent& x : as_inventory) {
      UPDRAFT_FUZZ_CHECK(!x.name().empty() && !x.version().empty());
      if (x.location() == v1::COMPONENT_LOCATION_UNSPECIFIED) x.set_location(v1::DEPLOYED);
    }
    UPDRAFT_FUZZ_CHECK_MSG(ValidateInventory("inventory", as_inventory).ok(),
                           "a Deployed list the catalog accepts is not a valid inventory");
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(deployed));
  }
}

}  // namespace
}  // namespace updraft::catalog

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  updraft::catalog::CheckText(bytes.substr(0, 256));
  updraft::v1::CheckForUpdatesRequest request;
  if (request.ParseFromArray(data, static_cast<int>(size))) {
    updraft::catalog::CheckComponents(request.inventory());
  }
  return 0;
}
