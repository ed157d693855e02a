// Download benchmark (bench/run.sh download): one 256 MiB artifact downloaded
// over loopback by the device SDK's Downloader from the real download service
// (gRPC, every chunk verified against the manifest, written and recorded
// durably), against libcurl fetching the same bytes from nginx (sendfile on,
// Range requests of the same chunk size on one keep-alive connection,
// written to a file). Three runs each, medians; the artifact is read once
// before every measured run so both sides start from a warm page cache.
// Then checks that a resume after a cut re-fetches at most one chunk.
#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/token.h"
#include "sdk/device/downloader.h"
#include "sdk/device/grpc_chunk_source.h"
#include "sdk/device/state_store.h"
#include "services/download/download_server.h"
#include "updraft/v1/download.grpc.pb.h"

ABSL_FLAG(std::string, artifact_root, "", "the download service's volume (nginx serves it too)");
ABSL_FLAG(std::string, work_dir, "", "scratch directory for the devices' files");
ABSL_FLAG(std::string, nginx_base, "", "http://127.0.0.1:PORT serving artifact_root");
ABSL_FLAG(int, size_mib, 256, "artifact size");
ABSL_FLAG(int, chunk_size, 1 << 20, "chunk size of the manifest and of the Range requests");
ABSL_FLAG(int, runs, 3, "measured runs per side");

namespace updraft::bench {
namespace {

void Die(const std::string& what) {
  fprintf(stderr, "download_bench: %s\n", what.c_str());
  exit(1);
}

// Reads the whole file (warms the page cache, like the peer's).
void Warm(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) Die("cannot open " + path);
  std::vector<char> buf(1 << 20);
  while (read(fd, buf.data(), buf.size()) > 0) {
  }
  close(fd);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string Payload(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(&s[i], &x, 8);
  }
  return s;
}

v1::ArtifactManifest Upload(v1::Download::Stub& stub, const std::string& token,
                            const std::string& data, uint32_t chunk_size) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::ArtifactManifest manifest;
  auto writer = stub.Upload(&ctx, &manifest);
  v1::UploadRequest header;
  header.mutable_header()->set_size(static_cast<int64_t>(data.size()));
  header.mutable_header()->set_sha256(Sha256Hex(data));
  header.mutable_header()->set_chunk_size(chunk_size);
  writer->Write(header);
  for (size_t off = 0; off < data.size(); off += 1 << 20) {
    v1::UploadRequest piece;
    piece.set_data(data.substr(off, 1 << 20));
    if (!writer->Write(piece)) break;
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) Die("upload failed: " + s.error_message());
  return manifest;
}

// The SDK's download of `m` into a fresh device directory; MiB/s.
double SdkRun(v1::Download::Stub* stub, const v1::ArtifactManifest& m, const std::string& token,
              const std::string& dir) {
  std::filesystem::remove_all(dir);
  auto state = device::StateStore::Open(dir);
  if (!state.ok()) Die(state.status().ToString());
  device::Downloader::Options options;
  options.stub = stub;
  options.state = state->get();
  // As on a device with trusted publisher keys: the manifest comes from
  // signed release metadata, so every chunk is verified once and there is
  // no second whole-file hash pass (Client sets the same).
  options.verify_whole_file = false;
  auto downloader = device::Downloader::Create(std::move(options));
  if (!downloader.ok()) Die(downloader.status().ToString());
  absl::Time start = absl::Now();
  auto path = (*downloader)->Fetch("rel_bench", m, token);
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!path.ok()) Die("SDK download failed: " + path.status().ToString());
  return m.size() / 1048576.0 / seconds;
}

size_t ToFile(char* data, size_t size, size_t count, void* fd) {
  size_t n = size * count;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(*static_cast<int*>(fd), data + done, n - done);
    if (w <= 0) return 0;
    done += static_cast<size_t>(w);
  }
  return n;
}

// Collects one Range response in memory (for the verifying peer).
size_t ToBuffer(char* data, size_t size, size_t count, void* buffer) {
  static_cast<std::string*>(buffer)->append(data, size * count);
  return size * count;
}

// libcurl fetching `url` in Range requests of `chunk` bytes on one
// connection into `out`; MiB/s. With `verify`, the like-for-like peer: each
// chunk is held in memory, its SHA-256 computed (as a device must before
// accepting it), then written.
double CurlRun(const std::string& url, int64_t size, int64_t chunk, const std::string& out,
               bool verify = false) {
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("cannot create " + out);
  std::string buffer;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (verify) {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &ToBuffer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buffer);
  } else {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &ToFile);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
  }
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  absl::Time start = absl::Now();
  for (int64_t off = 0; off < size; off += chunk) {
    std::string range = absl::StrCat(off, "-", std::min(off + chunk, size) - 1);
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    buffer.clear();
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK || code != 206) Die(absl::StrCat("nginx range ", range, " failed: ", code));
    if (verify) {
      if (Sha256(buffer).size() != 32) Die("hashing failed");
      ToFile(buffer.data(), 1, buffer.size(), &fd);
    }
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  curl_easy_cleanup(c);
  close(fd);
  return size / 1048576.0 / seconds;
}

// Passes `limit` chunks of the inner source on, then fails like a dropped
// connection; counts the chunks it passed.
class CuttingSource : public device::ChunkSource {
 public:
  CuttingSource(device::ChunkSource* inner, int limit) : inner_(inner), limit_(limit) {}
  std::string name() const override { return "cutting " + inner_->name(); }
  absl::Status Stream(const v1::ArtifactManifest& m, uint32_t first, Sink sink) override {
    absl::Status s = inner_->Stream(m, first, [&](uint32_t i, int64_t o, absl::string_view d) {
      if (passed_ == limit_) return absl::CancelledError("cut");
      ++passed_;
      return sink(i, o, d);
    });
    return absl::IsCancelled(s) ? absl::UnavailableError("connection cut") : s;
  }
  int passed() const { return passed_; }

 private:
  device::ChunkSource* inner_;
  const int limit_;
  int passed_ = 0;
};

// SHA-256 of every chunk of `data` on every core, nothing else: the most a
// downloader that verifies every byte can reach on this machine.
double HashCeilingMibPerSecond(const std::string& data, size_t chunk) {
  const int threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t at; (at = next.fetch_add(chunk)) < data.size();) {
        if (Sha256(absl::string_view(data).substr(at, chunk)).empty()) Die("hash");
      }
    });
  }
  for (auto& t : pool) t.join();
  return data.size() / 1048576.0 / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main() {
  const std::string root = absl::GetFlag(FLAGS_artifact_root);
  const std::string work = absl::GetFlag(FLAGS_work_dir);
  const std::string nginx = absl::GetFlag(FLAGS_nginx_base);
  if (root.empty() || work.empty() || nginx.empty()) {
    Die("--artifact_root, --work_dir and --nginx_base are required");
  }
  const int chunk = absl::GetFlag(FLAGS_chunk_size);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  RealClock clock;
  auto key = Ed25519KeyPair::Generate();
  StaticKeySource keys;
  keys.Add(key->public_key());
  TokenSigner signer(*key, &clock, absl::Hours(1));
  download::DownloadServer::Options options;
  options.artifact_root = root;
  options.key_source_override = &keys;
  options.clock = &clock;
  auto server = download::DownloadServer::Create(options);
  if (!server.ok()) Die(server.status().ToString());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Download::NewStub(channel);
  const std::string device_token = signer.Issue("bench-device", kDeviceAudience)->token;
  const std::string publisher_token =
      signer.Issue("ak_bench", kOperatorAudience, {.role = "publisher"})->token;

  const std::string data = Payload(static_cast<size_t>(absl::GetFlag(FLAGS_size_mib)) << 20);
  absl::Time t0 = absl::Now();
  v1::ArtifactManifest m = Upload(*stub, publisher_token, data, static_cast<uint32_t>(chunk));
  printf("uploaded %lld bytes in %d-byte chunks in %.1f s (hashed once, at upload)\n",
         static_cast<long long>(m.size()), chunk, absl::ToDoubleSeconds(absl::Now() - t0));
  const std::string object = absl::StrCat(root, "/objects/", m.sha256());
  const std::string url = absl::StrCat(nginx, "/objects/", m.sha256());

  std::vector<double> sdk, peer, verifying_peer;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    Warm(object);
    sdk.push_back(SdkRun(stub.get(), m, device_token, work + "/sdk-device"));
    Warm(object);
    peer.push_back(CurlRun(url, m.size(), chunk, work + "/curl.out"));
    Warm(object);
    verifying_peer.push_back(CurlRun(url, m.size(), chunk, work + "/curl.out", /*verify=*/true));
    printf("run %d: sdk %.0f MiB/s, nginx %.0f MiB/s, nginx + SHA-256 per chunk %.0f MiB/s\n",
           run + 1, sdk.back(), peer.back(), verifying_peer.back());
    fflush(stdout);
  }

  // A cut after 100 chunks, then a restarted device resuming.
  std::filesystem::remove_all(work + "/cut-device");
  int refetched = -1;
  {
    auto state = device::StateStore::Open(work + "/cut-device");
    device::Downloader::Options o;
    o.stub = stub.get();
    o.state = state->get();
    o.max_stream_retries = 0;
    auto d = *device::Downloader::Create(std::move(o));
    device::GrpcChunkSource grpc_source(stub.get(), device_token, absl::Hours(1));
    std::vector<std::unique_ptr<device::ChunkSource>> sources;
    auto cutting = std::make_unique<CuttingSource>(&grpc_source, 100);
    CuttingSource* cut = cutting.get();
    sources.push_back(std::move(cutting));
    auto first = d->FetchFrom("rel_bench", m, std::move(sources));
    if (first.ok() || cut->passed() != 100) Die("the cut did not happen");
  }
  {
    auto state = device::StateStore::Open(work + "/cut-device");
    device::Downloader::Options o;
    o.stub = stub.get();
    o.state = state->get();
    auto d = *device::Downloader::Create(std::move(o));
    device::GrpcChunkSource grpc_source(stub.get(), device_token, absl::Hours(1));
    auto counting = std::make_unique<CuttingSource>(&grpc_source, 1 << 30);
    CuttingSource* count = counting.get();
    std::vector<std::unique_ptr<device::ChunkSource>> sources;
    sources.push_back(std::move(counting));
    auto resumed = d->FetchFrom("rel_bench", m, std::move(sources));
    if (!resumed.ok()) Die("resume failed: " + resumed.status().ToString());
    refetched = count->passed() - (m.chunk_sha256_size() - 100);
  }
  printf("RESULT bench=download_resume metric=chunks_refetched_after_cut value=%d limit=1\n",
         refetched);

  std::vector<double> ceiling;
  for (int run = 0; run < absl::GetFlag(FLAGS_runs); ++run) {
    ceiling.push_back(HashCeilingMibPerSecond(data, static_cast<size_t>(chunk)));
  }
  const double v = Median(sdk), p = Median(peer), pv = Median(verifying_peer);
  const double c = Median(ceiling);
  // Hashing and moving the bytes share the cores: their costs per byte add.
  const double bound = 1 / (1 / c + 1 / p);
  printf(
      "SHA-256 of every chunk on all %u cores, nothing else: %.0f MiB/s (%.2f of nginx); with "
      "the bytes also moved as cheaply as nginx moves them: at most %.0f MiB/s, %.2f of nginx, "
      "for any downloader that verifies every byte (the SDK reaches %.2f of that)\n",
      std::thread::hardware_concurrency(), c, c / p, bound, bound / p, v / bound);
  // Like for like: a client that, as the device must, hashes every chunk.
  printf(
      "RESULT bench=download metric=mib_per_s value=%.0f peer=nginx_curl_sha256 peer_value=%.0f "
      "ratio=%.2f\n",
      v, pv, v / pv);
  printf(
      "RESULT bench=download metric=mib_per_s value=%.0f peer=nginx peer_value=%.0f ratio=%.2f\n",
      v, p, v / p);
  (*server)->Shutdown(absl::ZeroDuration());
  return 0;
}

}  // namespace
}  // namespace updraft::bench

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  return updraft::bench::Main();
}
