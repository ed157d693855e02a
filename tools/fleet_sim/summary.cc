#include "tools/fleet_sim/summary.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace updraft::fleet_sim {
namespace {

std::string Ms(double ms) {
  if (ms >= 10000) return absl::StrFormat("%.1f s", ms / 1000);
  return absl::StrFormat("%.1f ms", ms);
}

// Outcome names are [a-z0-9_]; quoting is still done properly.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string SummaryText(int devices, const std::vector<PhaseStats>& phases, int streams_open) {
  std::string out = absl::StrCat("fleet: ", devices, " devices\n");
  for (const PhaseStats& p : phases) {
    std::vector<std::string> parts;
    for (const auto& [outcome, n] : p.outcomes) parts.push_back(absl::StrCat(outcome, " ", n));
    absl::StrAppend(&out, p.name, ": ", parts.empty() ? "none" : absl::StrJoin(parts, ", "));
    if (!p.durations_ms.empty()) {
      absl::StrAppend(&out, "; p50 ", Ms(p.PercentileMs(50)), ", p99 ", Ms(p.PercentileMs(99)));
    }
    absl::StrAppend(&out, " (wall ", Ms(absl::ToDoubleMilliseconds(p.wall)), ")\n");
  }
  if (streams_open >= 0) absl::StrAppend(&out, "ip push streams open: ", streams_open, "\n");
  return out;
}

std::string SummaryJson(int devices, const std::vector<PhaseStats>& phases, int streams_open) {
  std::vector<std::string> items;
  for (const PhaseStats& p : phases) {
    std::vector<std::string> outcomes;
    for (const auto& [outcome, n] : p.outcomes) {
      outcomes.push_back(absl::StrCat(JsonString(outcome), ":", n));
    }
    items.push_back(absl::StrFormat(
        "{\"name\":%s,\"count\":%d,\"outcomes\":{%s},\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"wall_ms\":%.3f}",
        JsonString(p.name), p.durations_ms.size(), absl::StrJoin(outcomes, ","), p.PercentileMs(50),
        p.PercentileMs(99), absl::ToDoubleMilliseconds(p.wall)));
  }
  return absl::StrCat("{\"devices\":", devices, ",\"streams_open\":", streams_open, ",\"phases\":[",
                      absl::StrJoin(items, ","), "]}\n");
}

bool AllGood(const std::vector<PhaseStats>& phases) {
  static const std::set<std::string> kGood = {"imported",  "registered",  "already_registered",
                                              "installed", "nothing_new", "open"};
  for (const PhaseStats& p : phases) {
    for (const auto& [outcome, n] : p.outcomes) {
      if (n > 0 && kGood.count(outcome) == 0) return false;
    }
  }
  return true;
}

}  // namespace updraft::fleet_sim
