#ifndef UPDRAFT_BENCH_UNARY_LOAD_H_
#define UPDRAFT_BENCH_UNARY_LOAD_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace updraft::bench {

// One unary call a load generator makes over and over: its bearer token and
// its request, serialised once beforehand (as ghz or h2load do), so that the
// load generator spends its cycles on the transport, not on re-encoding.
struct UnaryRequest {
  std::string authorization;
  std::string payload;
};

// Writes `requests` to `path` / reads them back (length-prefixed records), so
// that a load generator in another process replays exactly the parent's calls.
absl::Status WriteUnaryRequests(const std::string& path, const std::vector<UnaryRequest>& requests);
absl::StatusOr<std::vector<UnaryRequest>> ReadUnaryRequests(const std::string& path);

// What one measured phase of a load run saw.
struct UnaryLoadResult {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t calls = 0;
  int64_t failures = 0;
  std::string first_failure;
  // The calls' answers summed by a caller-chosen count (the catalog bench:
  // offers in each CheckForUpdatesResponse).
  int64_t counted = 0;

  // "calls failures counted per_second p50 p99" and back, for the line a
  // load process prints to its parent.
  std::string ToLine() const;
  static absl::StatusOr<UnaryLoadResult> FromLine(const std::string& line);
};

// Calls `method` on `target` (plaintext) with every request round-robin,
// keeping `in_flight` calls going over `channels` connections, and measures
// each call's latency. The calls run on gRPC's asynchronous client API,
// driven by `threads` completion-queue threads (as gRPC's own benchmark
// clients do), so the load generator leaves most of a small machine's cores
// to the server it measures. `count` (may be null) maps a successful answer
// to a number summed into `counted`, or to -1 when the answer does not parse
// (counted as a failure).
struct UnaryLoadOptions {
  std::string target;
  std::string method;
  int threads = 2;
  int in_flight = 32;
  int channels = 4;
  int64_t (*count)(grpc::ByteBuffer* answer) = nullptr;
};

// A load generator whose connections stay open between runs, so that a
// benchmark can alternate short runs against a server and its peer.
class UnaryLoad {
 public:
  UnaryLoad(UnaryLoadOptions options, const std::vector<UnaryRequest>& requests);
  ~UnaryLoad();

  // Keeps the calls going for `duration` and returns what they saw.
  UnaryLoadResult Run(absl::Duration duration);
  // All runs since the last Forget() (or since construction) as one: their
  // calls, failures and counts summed, latency percentiles over every call,
  // per_second over their summed durations.
  UnaryLoadResult Total() const;
  void Forget();

 private:
  static UnaryLoadResult Summarize(std::vector<float> latencies, absl::Duration duration);

  const UnaryLoadOptions options_;
  std::vector<grpc::ByteBuffer> payloads_;
  std::vector<std::string> authorizations_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<float> history_;  // latencies of the runs since Forget()
  absl::Duration history_duration_;
  int64_t history_failures_ = 0;
  int64_t history_counted_ = 0;
};

}  // namespace updraft::bench

#endif  // UPDRAFT_BENCH_UNARY_LOAD_H_
