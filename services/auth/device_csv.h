#ifndef UPDRAFT_SERVICES_AUTH_DEVICE_CSV_H_
#define UPDRAFT_SERVICES_AUTH_DEVICE_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/auth/device_registry.h"

namespace updraft {

// One device of a bulk pre-provisioning file, with its row number.
struct CsvDevice {
  // As in a spreadsheet: the header is row 1.
  int row = 0;
  DeviceRecord device;
};

// Parses the CSV of AuthAdmin.ImportDevices (format in auth.proto,
// ImportDevicesRequest): UTF-8, RFC 4180 quoting, header
// "device_id,key_type,public_key[,attribute...]", key_type "ed25519" or
// "ecdsa-p256", public_key base64url. Every field is validated as for
// RegisterDevice; the first problem is INVALID_ARGUMENT "row N: <problem>".
// Returned devices are accepted, with no timestamps set. At most `max_rows`
// devices.
absl::StatusOr<std::vector<CsvDevice>> ParseDeviceCsv(absl::string_view csv, size_t max_rows);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_DEVICE_CSV_H_
