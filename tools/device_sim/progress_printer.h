#ifndef UPDRAFT_TOOLS_DEVICE_SIM_PROGRESS_PRINTER_H_
#define UPDRAFT_TOOLS_DEVICE_SIM_PROGRESS_PRINTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sdk/device/client.h"

namespace updraft::device_sim {

// Turns the device SDK's progress events and outcomes into lines a person
// reads, each prefixed with the device, e.g.
//   [device phone-0001] downloading 3/8 chunks (171 KiB)
// Lines go to `sink` (stdout in the binary, a vector in tests).
class ProgressPrinter {
 public:
  ProgressPrinter(std::string device_id, std::function<void(const std::string&)> sink)
      : prefix_("[device " + device_id + "] "), sink_(std::move(sink)) {}

  void OnProgress(const device::ProgressEvent& e);
  void OnConsent(const v1::Offer& offer, bool consented);
  void OnResult(const device::UpdateOutcome& o);
  void Line(absl::string_view text);

  // "812 B", "455 KiB", "3.2 MiB", "1.5 GiB".
  static std::string FormatSize(int64_t bytes);
  // "DC_1", "DC_1 and DC_2", "DC_1, DC_2 and DC_3".
  static std::string JoinAnd(const std::vector<std::string>& items);
  // "45 s", "15 min", "2 h".
  static std::string FormatDuration(absl::Duration d);

 private:
  const std::string prefix_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace updraft::device_sim

#endif  // UPDRAFT_TOOLS_DEVICE_SIM_PROGRESS_PRINTER_H_
