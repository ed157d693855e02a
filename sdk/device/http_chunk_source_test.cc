#include "sdk/device/http_chunk_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/device/curl_library.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

// A one-connection-at-a-time HTTP/1.1 server on loopback. `respond` gets the
// request's Range start (-1 without one) and returns the whole response.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::function<std::string(int64_t)> respond)
      : respond_(std::move(respond)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/objects/x"); }
  std::vector<int64_t> ranges() const { return ranges_; }

 private:
  void Serve() {
    while (true) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      int64_t start = -1;
      size_t r = request.find("Range: bytes=");
      if (r != std::string::npos) start = std::stoll(request.substr(r + 13));
      ranges_.push_back(start);
      std::string response = respond_(start);
      size_t done = 0;
      while (done < response.size()) {
        ssize_t n = write(c, response.data() + done, response.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      close(c);
    }
  }

  std::function<std::string(int64_t)> respond_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<int64_t> ranges_;
};

std::string Response(int code, const std::string& body, size_t truncate_to = std::string::npos) {
  std::string b = body.substr(0, truncate_to);
  return absl::StrCat("HTTP/1.1 ", code, " X\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", b);
}

struct Got {
  std::vector<uint32_t> indexes;
  std::string bytes;
};

class HttpChunkSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2500; ++i) data_.push_back(static_cast<char>(i * 31));
    manifest_ = testutil::MakeManifest(data_, 1000);  // chunks of 1000, 1000, 500
  }

  absl::Status Run(const std::string& url, uint32_t first, Got* got,
                   absl::Status fail_at_second = absl::OkStatus()) {
    HttpSourceOptions options;
    options.allow_plain_http = true;
    auto source = HttpChunkSource::Create(url, options);
    if (!source.ok()) return source.status();
    return (*source)->Stream(manifest_, first, [&](uint32_t i, int64_t o, absl::string_view d) {
      EXPECT_EQ(o, static_cast<int64_t>(i) * 1000);
      if (!got->indexes.empty() && !fail_at_second.ok()) return fail_at_second;
      got->indexes.push_back(i);
      got->bytes.append(d.data(), d.size());
      return absl::OkStatus();
    });
  }

  std::string data_;
  v1::ArtifactManifest manifest_;
};

TEST_F(HttpChunkSourceTest, CutsARangeIntoManifestChunks) {
  TinyHttpServer server([&](int64_t start) { return Response(206, data_.substr(start)); });
  Got got;
  ASSERT_TRUE(Run(server.url(), 1, &got).ok());
  EXPECT_EQ(got.indexes, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(got.bytes, data_.substr(1000));
  EXPECT_EQ(server.ranges(), std::vector<int64_t>{1000});
}

TEST_F(HttpChunkSourceTest, EarlyEndDeliversOnlyWholeChunks) {
  TinyHttpServer server([&](int64_t) { return Response(206, data_, 1500); });
  Got got;
  EXPECT_EQ(Run(server.url(), 0, &got).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(got.indexes, std::vector<uint32_t>{0});
}

TEST_F(HttpChunkSourceTest, RefusesAFullBodyForARangeAndMapsErrors) {
  TinyHttpServer ignores_range([&](int64_t) { return Response(200, data_); });
  Got got;
  EXPECT_EQ(Run(ignores_range.url(), 1, &got).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(got.indexes.empty());
  // From byte 0 a 200 is the same bytes.
  ASSERT_TRUE(Run(ignores_range.url(), 0, &got).ok());
  EXPECT_EQ(got.bytes, data_);

  TinyHttpServer missing([&](int64_t) { return Response(404, "no"); });
  EXPECT_EQ(Run(missing.url(), 0, &got).code(), absl::StatusCode::kNotFound);
  TinyHttpServer broken([&](int64_t) { return Response(503, "busy"); });
  EXPECT_EQ(Run(broken.url(), 0, &got).code(), absl::StatusCode::kUnavailable);
}

TEST_F(HttpChunkSourceTest, SinkErrorStopsTheTransfer) {
  TinyHttpServer server([&](int64_t start) { return Response(206, data_.substr(start)); });
  Got got;
  absl::Status s = Run(server.url(), 0, &got, absl::DataLossError("bad chunk"));
  EXPECT_EQ(s, absl::DataLossError("bad chunk"));
  EXPECT_EQ(got.indexes, std::vector<uint32_t>{0});
}

// A handset without libcurl: Create succeeds (nothing is loaded then), the
// transfer fails before any request with FAILED_PRECONDITION naming the
// library, so that the downloader drops this source for the others.
TEST_F(HttpChunkSourceTest, MissingLibcurlFailsThePreconditionWithoutARequest) {
  TinyHttpServer server([&](int64_t start) { return Response(206, data_.substr(start)); });
  HttpSourceOptions options;
  options.allow_plain_http = true;
  options.curl_library = "libcurl-absent-for-test.so.4";
  auto source = HttpChunkSource::Create(server.url(), options);
  ASSERT_TRUE(source.ok()) << source.status();
  int chunks = 0;
  absl::Status s = (*source)->Stream(manifest_, 0, [&](uint32_t, int64_t, absl::string_view) {
    ++chunks;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "libcurl-absent-for-test.so.4")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), server.url())) << s;
  EXPECT_EQ(chunks, 0);
  EXPECT_TRUE(server.ranges().empty());
  EXPECT_FALSE(CurlLibrary::Loaded("libcurl-absent-for-test.so.4"));
  options.curl_library = "";
  EXPECT_EQ(HttpChunkSource::Create(server.url(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpChunkSourceTest, ValidatesUrlAndOptions) {
  EXPECT_EQ(HttpChunkSource::Create("http://cdn.example/x", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      HttpChunkSource::Create("ftp://cdn.example/x", {.allow_plain_http = true}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HttpChunkSource::Create("https://cdn.example/x", {}).ok());
  HttpSourceOptions half;
  half.client_cert_file = "cert.pem";
  EXPECT_EQ(HttpChunkSource::Create("https://cdn.example/x", half).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing listening: retryable.
  Got got;
  EXPECT_EQ(Run("http://127.0.0.1:1/objects/x", 0, &got).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft::device
