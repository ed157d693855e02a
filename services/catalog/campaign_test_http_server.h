#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TEST_HTTP_SERVER_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TEST_HTTP_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace updraft::catalog {

// A one-thread HTTP/1.1 server on 127.0.0.1 answering each request with the
// next queued status (200 when none) and recording what it received.
class LocalHttpServer {
 public:
  struct Request {
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };
  LocalHttpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 8);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LocalHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  void QueueStatus(int status) {
    absl::MutexLock l(&mu_);
    statuses_.push_back(status);
  }
  std::vector<Request> requests() {
    absl::MutexLock l(&mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string data;
      char buf[4096];
      size_t header_end = std::string::npos;
      size_t length = 0;
      while (true) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        data.append(buf, n);
        if (header_end == std::string::npos) {
          header_end = data.find("\r\n\r\n");
          if (header_end == std::string::npos) continue;
          for (absl::string_view line : absl::StrSplit(data.substr(0, header_end), "\r\n")) {
            std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
            if (absl::AsciiStrToLower(kv.first) == "content-length") {
              (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &length);
            }
          }
        }
        if (data.size() >= header_end + 4 + length) break;
      }
      Request r;
      for (absl::string_view line : absl::StrSplit(data.substr(0, header_end), "\r\n")) {
        std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
        r.headers[absl::AsciiStrToLower(kv.first)] =
            std::string(absl::StripAsciiWhitespace(kv.second));
      }
      r.body = data.substr(header_end + 4);
      int status = 200;
      {
        absl::MutexLock l(&mu_);
        requests_.push_back(r);
        if (!statuses_.empty()) {
          status = statuses_.front();
          statuses_.pop_front();
        }
      }
      std::string reply = absl::StrCat("HTTP/1.1 ", status,
                                       " X\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n");
      (void)!write(c, reply.data(), reply.size());
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<int> statuses_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_TEST_HTTP_SERVER_H_
