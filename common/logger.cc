#include "common/logger.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/json.h"

namespace updraft {
namespace {

absl::string_view LevelName(Logger::Level level) {
  switch (level) {
    case Logger::Level::kDebug:
      return "debug";
    case Logger::Level::kInfo:
      return "info";
    case Logger::Level::kWarning:
      return "warning";
    case Logger::Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool ParseLogLevel(absl::string_view name, Logger::Level* level) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") {
    *level = Logger::Level::kDebug;
  } else if (n == "info") {
    *level = Logger::Level::kInfo;
  } else if (n == "warning") {
    *level = Logger::Level::kWarning;
  } else if (n == "error") {
    *level = Logger::Level::kError;
  } else {
    return false;
  }
  return true;
}

Logger::Logger(std::string service, const Clock* clock, FILE* out, Level min_level)
    : service_(std::move(service)), clock_(clock), out_(out), min_level_(min_level) {}

std::string Logger::Format(Level level, absl::string_view msg,
                           std::initializer_list<Field> fields) const {
  std::string line = absl::StrCat(
      "{\"ts\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_->Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", LevelName(level), "\",\"service\":\"", JsonEscape(service_),
      "\",\"msg\":\"", JsonEscape(msg), "\"");
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",\"", JsonEscape(key), "\":\"", JsonEscape(value), "\"");
  }
  line += "}\n";
  return line;
}

void Logger::Log(Level level, absl::string_view msg, std::initializer_list<Field> fields) {
  if (level < min_level_) return;
  std::string line = Format(level, msg, fields);
  absl::MutexLock lock(&mu_);
  fwrite(line.data(), 1, line.size(), out_);
  fflush(out_);
}

}  // namespace updraft
