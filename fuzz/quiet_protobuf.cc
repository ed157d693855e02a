// Linked into the harnesses that parse protobuf: drops libprotobuf's log
// lines (e.g. "String field contains invalid UTF-8"), which fuzzing would
// otherwise print millions of times, slowing it and filling the logs.
#include "google/protobuf/stubs/logging.h"

namespace {

const bool kQuiet = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace
