#ifndef UPDRAFT_COMMON_LOGGER_H_
#define UPDRAFT_COMMON_LOGGER_H_

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace updraft {

// Structured logger: one JSON object per line, e.g.
//   {"ts":"2026-11-21T23:40:00.123Z","level":"info","service":"catalog",
//    "msg":"release published","release_id":"r_1"}
// Created in main() and handed to the components that log; writes to a FILE*
// (stderr by default) under a mutex so lines never interleave.
class Logger {
 public:
  enum class Level { kDebug, kInfo, kWarning, kError };
  using Field = std::pair<absl::string_view, std::string>;

  Logger(std::string service, const Clock* clock, FILE* out = stderr,
         Level min_level = Level::kInfo);

  void Log(Level level, absl::string_view msg, std::initializer_list<Field> fields = {});
  void Info(absl::string_view msg, std::initializer_list<Field> fields = {}) {
    Log(Level::kInfo, msg, fields);
  }
  void Warning(absl::string_view msg, std::initializer_list<Field> fields = {}) {
    Log(Level::kWarning, msg, fields);
  }
  void Error(absl::string_view msg, std::initializer_list<Field> fields = {}) {
    Log(Level::kError, msg, fields);
  }

  // Formats one line without writing it; exposed for tests.
  std::string Format(Level level, absl::string_view msg, std::initializer_list<Field> fields) const;

 private:
  const std::string service_;
  const Clock* clock_;
  FILE* out_;
  const Level min_level_;
  absl::Mutex mu_;
};

// Parses "debug", "info", "warning" or "error" (any case) for --log_level;
// false for anything else.
bool ParseLogLevel(absl::string_view name, Logger::Level* level);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_LOGGER_H_
