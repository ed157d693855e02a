#include "bench/unary_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace updraft::bench {
namespace {

void PutLength(std::ofstream& out, size_t n) {
  const uint32_t v = static_cast<uint32_t>(n);
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

bool GetString(std::ifstream& in, std::string* s) {
  uint32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), sizeof n)) return false;
  if (n > (64u << 20)) return false;
  s->resize(n);
  return static_cast<bool>(in.read(s->data(), n));
}

}  // namespace

absl::Status WriteUnaryRequests(const std::string& path,
                                const std::vector<UnaryRequest>& requests) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const UnaryRequest& r : requests) {
    PutLength(out, r.authorization.size());
    out << r.authorization;
    PutLength(out, r.payload.size());
    out << r.payload;
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UnaryRequest>> ReadUnaryRequests(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<UnaryRequest> requests;
  UnaryRequest r;
  while (GetString(in, &r.authorization)) {
    if (!GetString(in, &r.payload)) {
      return absl::DataLossError(absl::StrCat(path, ": record ", requests.size(), " is cut"));
    }
    requests.push_back(std::move(r));
  }
  if (!in.eof()) return absl::DataLossError(absl::StrCat(path, ": bad record length"));
  return requests;
}

std::string UnaryLoadResult::ToLine() const {
  return absl::StrCat(calls, " ", failures, " ", counted, " ", per_second, " ", p50_ms, " ",
                      p99_ms);
}

absl::StatusOr<UnaryLoadResult> UnaryLoadResult::FromLine(const std::string& line) {
  std::vector<std::string> f = absl::StrSplit(line, ' ');
  UnaryLoadResult r;
  if (f.size() != 6 || !absl::SimpleAtoi(f[0], &r.calls) || !absl::SimpleAtoi(f[1], &r.failures) ||
      !absl::SimpleAtoi(f[2], &r.counted) || !absl::SimpleAtod(f[3], &r.per_second) ||
      !absl::SimpleAtod(f[4], &r.p50_ms) || !absl::SimpleAtod(f[5], &r.p99_ms)) {
    return absl::InvalidArgumentError(absl::StrCat("not a load result line: ", line));
  }
  return r;
}

namespace {

// One call slot: `in_flight` of them keep a call each going, started again
// from the completion queue as soon as the previous call ends.
struct Slot {
  size_t next = 0;  // index into the requests, stepping by the slot count
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call;
  grpc::ByteBuffer reply;
  grpc::Status status;
  absl::Time start;
};

}  // namespace

UnaryLoad::UnaryLoad(UnaryLoadOptions options, const std::vector<UnaryRequest>& requests)
    : options_(std::move(options)) {
  for (const UnaryRequest& r : requests) {
    grpc::Slice slice(r.payload);
    payloads_.emplace_back(&slice, 1);
    authorizations_.push_back(r.authorization);
  }
  for (int i = 0; i < std::max(1, options_.channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("updraft.bench.channel", i);  // distinct connections
    stubs_.push_back(std::make_unique<grpc::GenericStub>(
        grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args)));
  }
}

UnaryLoad::~UnaryLoad() = default;

UnaryLoadResult UnaryLoad::Run(absl::Duration duration) {
  const UnaryLoadOptions& options = options_;
  const std::vector<grpc::ByteBuffer>& payloads = payloads_;
  const size_t requests = payloads_.size();
  const int threads = std::max(1, options.threads);
  const int in_flight = std::max(threads, options.in_flight);
  std::atomic<bool> stop{false};
  std::vector<std::vector<float>> latencies(threads);
  std::vector<int64_t> failures(threads, 0), counted(threads, 0);
  std::vector<std::string> first_failure(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      grpc::CompletionQueue cq;
      std::vector<Slot> slots;
      for (int k = t; k < in_flight; k += threads) slots.push_back(Slot{static_cast<size_t>(k)});
      auto start_call = [&](Slot& slot) {
        const size_t d = slot.next % requests;
        slot.next += in_flight;
        slot.ctx = std::make_unique<grpc::ClientContext>();
        slot.ctx->AddMetadata("authorization", authorizations_[d]);
        slot.reply.Clear();
        slot.start = absl::Now();
        grpc::GenericStub& stub = *stubs_[(&slot - slots.data()) % stubs_.size()];
        slot.call = stub.PrepareUnaryCall(slot.ctx.get(), options.method, payloads[d], &cq);
        slot.call->StartCall();
        slot.call->Finish(&slot.reply, &slot.status, &slot);
      };
      for (Slot& slot : slots) start_call(slot);
      size_t outstanding = slots.size();
      void* tag;
      bool ok;
      while (outstanding > 0 && cq.Next(&tag, &ok)) {
        Slot& slot = *static_cast<Slot*>(tag);
        latencies[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - slot.start));
        grpc::Status s = ok ? slot.status : grpc::Status(grpc::StatusCode::UNKNOWN, "call lost");
        int64_t n = 0;
        if (s.ok() && options.count != nullptr) {
          n = options.count(&slot.reply);
          if (n < 0) s = grpc::Status(grpc::StatusCode::INTERNAL, "answer does not parse");
        }
        if (!s.ok()) {
          if (failures[t]++ == 0) first_failure[t] = s.error_message();
        } else {
          counted[t] += n;
        }
        if (stop.load(std::memory_order_relaxed)) {
          --outstanding;
        } else {
          start_call(slot);
        }
      }
      cq.Shutdown();
      while (cq.Next(&tag, &ok)) {
      }
    });
  }
  const absl::Time started = absl::Now();
  absl::SleepFor(duration);
  stop = true;
  const absl::Duration measured = absl::Now() - started;
  for (auto& t : pool) t.join();
  std::vector<float> all;
  int64_t failed = 0, count = 0;
  std::string first;
  for (int t = 0; t < threads; ++t) {
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
    failed += failures[t];
    count += counted[t];
    if (first.empty()) first = first_failure[t];
  }
  history_.insert(history_.end(), all.begin(), all.end());
  history_duration_ += measured;
  history_failures_ += failed;
  history_counted_ += count;
  UnaryLoadResult r = Summarize(std::move(all), measured);
  r.failures = failed;
  r.counted = count;
  r.first_failure = first;
  return r;
}

UnaryLoadResult UnaryLoad::Total() const {
  UnaryLoadResult r = Summarize(history_, history_duration_);
  r.failures = history_failures_;
  r.counted = history_counted_;
  return r;
}

void UnaryLoad::Forget() {
  history_.clear();
  history_duration_ = absl::ZeroDuration();
  history_failures_ = 0;
  history_counted_ = 0;
}

UnaryLoadResult UnaryLoad::Summarize(std::vector<float> latencies, absl::Duration duration) {
  std::sort(latencies.begin(), latencies.end());
  UnaryLoadResult r;
  r.calls = static_cast<int64_t>(latencies.size());
  if (duration > absl::ZeroDuration()) {
    r.per_second = latencies.size() / absl::ToDoubleSeconds(duration);
  }
  if (!latencies.empty()) {
    r.p50_ms = latencies[latencies.size() / 2];
    r.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return r;
}

}  // namespace updraft::bench
