#include "sdk/device/http_chunk_source.h"

#include <curl/curl.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/device/curl_library.h"

namespace updraft::device {
namespace {

// State of one transfer, shared with libcurl's write callback.
struct Transfer {
  const CurlLibrary* lib = nullptr;
  CURL* curl = nullptr;
  const v1::ArtifactManifest* manifest = nullptr;
  ChunkSource::Sink* sink = nullptr;
  const std::string* url = nullptr;
  bool from_start = false;
  bool checked_status = false;
  uint32_t index = 0;
  std::string buffer;
  // Why the write callback stopped the transfer.
  absl::Status error;

  int64_t ChunkLength() const {
    int64_t offset = static_cast<int64_t>(index) * manifest->chunk_size();
    return std::min<int64_t>(manifest->chunk_size(), manifest->size() - offset);
  }
};

absl::Status HttpStatusError(long code, const std::string& url) {
  std::string what = absl::StrCat("HTTP source ", url, " answered ", code);
  if (code == 404 || code == 410) return absl::NotFoundError(what);
  if (code == 416) return absl::OutOfRangeError(what);
  if (code >= 500 || code == 408 || code == 429) return absl::UnavailableError(what);
  // 200 to a Range request, redirects, 401/403...: this source is unusable.
  return absl::FailedPreconditionError(what);
}

size_t OnData(char* data, size_t size, size_t count, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t.checked_status) {
    long code = 0;
    t.lib->easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &code);
    if (!(code == 206 || (code == 200 && t.from_start))) {
      t.error = HttpStatusError(code, *t.url);
      return 0;
    }
    t.checked_status = true;
  }
  absl::string_view in(data, n);
  const uint32_t total = static_cast<uint32_t>(t.manifest->chunk_sha256_size());
  while (!in.empty()) {
    if (t.index >= total) {
      t.error = absl::FailedPreconditionError(
          absl::StrCat("HTTP source ", *t.url, " sent more bytes than the artifact has"));
      return 0;
    }
    const size_t want = static_cast<size_t>(t.ChunkLength()) - t.buffer.size();
    const size_t take = std::min(want, in.size());
    t.buffer.append(in.data(), take);
    in.remove_prefix(take);
    if (t.buffer.size() == static_cast<size_t>(t.ChunkLength())) {
      absl::Status s =
          (*t.sink)(t.index, static_cast<int64_t>(t.index) * t.manifest->chunk_size(), t.buffer);
      if (!s.ok()) {
        t.error = s;
        return 0;
      }
      t.buffer.clear();
      ++t.index;
    }
  }
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpChunkSource>> HttpChunkSource::Create(
    std::string url, HttpSourceOptions options) {
  const bool https = absl::StartsWith(url, "https://");
  const bool http = absl::StartsWith(url, "http://");
  if (!https && !(http && options.allow_plain_http)) {
    return absl::InvalidArgumentError(absl::StrCat("HTTP source URL must start with https://",
                                                   options.allow_plain_http ? " or http://" : "",
                                                   ", got \"", url.substr(0, 200), "\""));
  }
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return absl::InvalidArgumentError("HTTP client certificate and key go together");
  }
  if (options.curl_library.empty()) {
    return absl::InvalidArgumentError("HttpSourceOptions.curl_library is empty");
  }
  return std::unique_ptr<HttpChunkSource>(new HttpChunkSource(std::move(url), std::move(options)));
}

absl::Status HttpChunkSource::Stream(const v1::ArtifactManifest& manifest, uint32_t first_chunk,
                                     Sink sink) {
  const int64_t start = static_cast<int64_t>(first_chunk) * manifest.chunk_size();
  if (start >= manifest.size()) return absl::OkStatus();
  // The first transfer of the process loads libcurl; a device without it
  // drops this source (FAILED_PRECONDITION) and goes on from the others.
  absl::StatusOr<const CurlLibrary*> lib = CurlLibrary::Load(options_.curl_library);
  if (!lib.ok()) {
    return absl::Status(lib.status().code(),
                        absl::StrCat("HTTP source ", url_, ": ", lib.status().message()));
  }
  const CurlLibrary& curl = **lib;
  Transfer t;
  t.lib = &curl;
  t.curl = curl.easy_init();
  if (t.curl == nullptr) return absl::ResourceExhaustedError("cannot start an HTTP transfer");
  t.manifest = &manifest;
  t.sink = &sink;
  t.url = &url_;
  t.from_start = start == 0;
  t.index = first_chunk;
  t.buffer.reserve(manifest.chunk_size());
  const std::string range = absl::StrCat(start, "-", manifest.size() - 1);
  CURL* c = t.curl;
  curl.easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl.easy_setopt(c, CURLOPT_RANGE, range.c_str());
  curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
  curl.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_plain_http ? "http,https" : "https");
  curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(absl::ToInt64Seconds(options_.stall_timeout)));
  curl.easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  if (!options_.ca_file.empty()) curl.easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.client_cert_file.empty()) {
    curl.easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
    curl.easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
  }
  char error_text[CURL_ERROR_SIZE] = {0};
  curl.easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  CURLcode rc = curl.easy_perform(c);
  long code = 0;
  curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl.easy_cleanup(c);
  if (!t.error.ok()) return t.error;
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(
        "HTTP source ", url_, ": ", error_text[0] ? error_text : curl.easy_strerror(rc)));
  }
  // An empty body never reaches the write callback: check the status here.
  if (!t.checked_status && !(code == 206 || (code == 200 && t.from_start))) {
    return HttpStatusError(code, url_);
  }
  return absl::OkStatus();  // the caller sees how far the bytes went
}

}  // namespace updraft::device
