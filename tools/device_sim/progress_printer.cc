#include "tools/device_sim/progress_printer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sdk/device/result_code.h"

namespace updraft::device_sim {
namespace {

std::string Name(const v1::Release& r) { return absl::StrCat(r.package_name(), " ", r.version()); }

std::string KindText(const v1::Offer& offer) {
  if (offer.kind() == v1::OVERWRITE) {
    return offer.installed_version().empty()
               ? "overwrite"
               : absl::StrCat("overwrite of ", offer.installed_version());
  }
  return "fresh install";
}

std::string ResultText(v1::ResultCode code) {
  return absl::StrCat(static_cast<int>(code), " (", device::ResultCodeText(code), ")");
}

}  // namespace

void ProgressPrinter::Line(absl::string_view text) { sink_(absl::StrCat(prefix_, text)); }

std::string ProgressPrinter::FormatSize(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < (int64_t{1} << 20)) return absl::StrCat(std::llround(bytes / 1024.0), " KiB");
  if (bytes < (int64_t{1} << 30)) return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
  return absl::StrFormat("%.1f GiB", bytes / 1073741824.0);
}

std::string ProgressPrinter::JoinAnd(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  if (items.size() == 1) return items[0];
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), " and ", items.back());
}

std::string ProgressPrinter::FormatDuration(absl::Duration d) {
  int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds < 120) return absl::StrCat(seconds, " s");
  if (seconds < 2 * 3600) return absl::StrCat(std::llround(seconds / 60.0), " min");
  return absl::StrCat(std::llround(seconds / 3600.0), " h");
}

void ProgressPrinter::OnProgress(const device::ProgressEvent& e) {
  using Step = device::ProgressEvent::Step;
  const v1::Release* r = e.offer != nullptr ? &e.offer->release() : &e.release;
  switch (e.step) {
    case Step::kLoggedIn:
      Line(absl::StrCat("logged in (token valid ", FormatDuration(e.token_lifetime), ")"));
      return;
    case Step::kFoundUpdate: {
      std::string position =
          e.offer_count > 1 ? absl::StrCat(" (", e.offer_index, " of ", e.offer_count, ")") : "";
      Line(absl::StrCat("found update", position, ": ", Name(*r), " (", KindText(*e.offer), "), ",
                        r->artifact().chunk_sha256_size(),
                        r->artifact().chunk_sha256_size() == 1 ? " chunk, " : " chunks, ",
                        FormatSize(r->artifact().size())));
      return;
    }
    case Step::kConsented:
      return;  // OnConsent already said it.
    case Step::kDownloading: {
      const uint32_t total = e.download.chunks_total;
      const uint32_t step = total <= 20 ? 1 : (total + 9) / 10;
      if (e.download.chunks_done != total && e.download.chunks_done % step != 0) return;
      Line(absl::StrCat("downloading ", e.download.chunks_done, "/", total, " chunks (",
                        FormatSize(e.download.bytes_done), ")"));
      return;
    }
    case Step::kVerified:
      Line(absl::StrCat("verified ", Name(*r), ": ", FormatSize(r->artifact().size()), ", sha256 ",
                        r->artifact().sha256().substr(0, 12), "... matches the release manifest"));
      return;
    case Step::kInstalled:
      Line(absl::StrCat("installed ", Name(*r), " into ", e.install_location));
      return;
    case Step::kConfigured:
      Line(absl::StrCat("configured ", r->package_name(), ": ", e.settings_applied,
                        e.settings_applied == 1 ? " setting" : " settings", " applied"));
      return;
    case Step::kComponentsRegistered:
      if (e.dc_ids.empty()) {
        Line(absl::StrCat(r->package_name(), " registered without DC IDs"));
      } else {
        Line(absl::StrCat(e.dc_ids.size() == 1 ? "component " : "components ", JoinAnd(e.dc_ids),
                          " registered"));
      }
      return;
    case Step::kReported:
      if (e.resent) {
        Line(absl::StrCat("earlier result ", ResultText(e.result), " for ", Name(*r),
                          " re-sent to server"));
      } else {
        Line(absl::StrCat("result ", ResultText(e.result), " reported to server",
                          e.duplicate ? " (already recorded)" : ""));
      }
      return;
  }
}

void ProgressPrinter::OnConsent(const v1::Offer& offer, bool consented) {
  Line(consented ? "user consented" : absl::StrCat("user declined ", Name(offer.release())));
}

void ProgressPrinter::OnResult(const device::UpdateOutcome& o) {
  if (o.nothing_new) {
    Line("nothing new");
    return;
  }
  if (o.result == v1::USER_CANCELLED) {
    Line(absl::StrCat("update of ", Name(o.release), " cancelled by the user"));
  } else if (!o.success()) {
    Line(absl::StrCat("update of ", Name(o.release), " failed: result ", ResultText(o.result), ": ",
                      o.message));
  }
  if (!o.reported) {
    Line(absl::StrCat("result ", ResultText(o.result), " not reported yet (", o.report_error,
                      "); it will be re-sent"));
  }
}

}  // namespace updraft::device_sim
