// Fuzzes the bulk pre-provisioning CSV of AuthAdmin.ImportDevices
// (services/auth/device_csv.h, ParseDeviceCsv): RFC 4180 quoting, header,
// key types and base64url keys (P-256 points go through OpenSSL).
//
// Invariants:
//  - refusals are INVALID_ARGUMENT; at most max_rows devices;
//  - accepted devices have distinct IDs, increasing row numbers past the
//    header, keys that ValidatePublicKey accepts, status ACCEPTED;
//  - serialize(parse(x)) parses to the same devices: writing the accepted
//    devices back as CSV (every field quoted) and parsing that gives equal
//    IDs, key types, keys and attributes.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/crypto.h"
#include "fuzz/fuzz_util.h"
#include "services/auth/device_csv.h"

namespace updraft {
namespace {

constexpr size_t kMaxRows = 64;

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::string ToCsv(const std::vector<CsvDevice>& devices) {
  std::set<std::string> names;
  for (const CsvDevice& d : devices) {
    for (const auto& [k, v] : d.device.attributes) names.insert(k);
  }
  std::vector<std::string> header = {"device_id", "key_type", "public_key"};
  header.insert(header.end(), names.begin(), names.end());
  std::string csv = absl::StrCat(absl::StrJoin(header, ","), "\r\n");
  for (const CsvDevice& d : devices) {
    std::vector<std::string> row = {Quote(d.device.device_id),
                                    Quote(KeyTypeName(d.device.key_type)),
                                    Quote(absl::WebSafeBase64Escape(d.device.public_key))};
    for (const std::string& n : names) {
      auto it = d.device.attributes.find(n);
      row.push_back(Quote(it == d.device.attributes.end() ? "" : it->second));
    }
    absl::StrAppend(&csv, absl::StrJoin(row, ","), "\n");
  }
  return csv;
}

void Check(absl::string_view csv) {
  absl::StatusOr<std::vector<CsvDevice>> parsed = ParseDeviceCsv(csv, kMaxRows);
  if (!parsed.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(parsed.status()));
    return;
  }
  UPDRAFT_FUZZ_CHECK(!parsed->empty() && parsed->size() <= kMaxRows);
  std::set<std::string> ids;
  int last_row = 1;
  for (const CsvDevice& d : *parsed) {
    UPDRAFT_FUZZ_CHECK(d.row > last_row);
    last_row = d.row;
    UPDRAFT_FUZZ_CHECK(ids.insert(d.device.device_id).second);
    UPDRAFT_FUZZ_CHECK(ValidatePublicKey(d.device.key_type, d.device.public_key).ok());
    UPDRAFT_FUZZ_CHECK(d.device.status == DeviceStatus::kAccepted);
    for (const auto& [k, v] : d.device.attributes) UPDRAFT_FUZZ_CHECK(!k.empty() && !v.empty());
  }
  const std::string again_csv = ToCsv(*parsed);
  absl::StatusOr<std::vector<CsvDevice>> again = ParseDeviceCsv(again_csv, kMaxRows);
  UPDRAFT_FUZZ_CHECK_MSG(again.ok(), again.status().ToString().c_str());
  UPDRAFT_FUZZ_CHECK(again->size() == parsed->size());
  for (size_t i = 0; i < parsed->size(); ++i) {
    const DeviceRecord& a = (*parsed)[i].device;
    const DeviceRecord& b = (*again)[i].device;
    UPDRAFT_FUZZ_CHECK(a.device_id == b.device_id);
    UPDRAFT_FUZZ_CHECK(a.key_type == b.key_type);
    UPDRAFT_FUZZ_CHECK(a.public_key == b.public_key);
    UPDRAFT_FUZZ_CHECK(a.attributes == b.attributes);
    UPDRAFT_FUZZ_CHECK((*again)[i].row == static_cast<int>(i) + 2);
  }
}

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::Check(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
