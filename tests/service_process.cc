#include "tests/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace updraft::e2e {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, const std::vector<std::string>& flags, const std::string& log,
    const std::string& ready_message, absl::Duration wait) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string path = srcdir != nullptr && workspace != nullptr
                               ? absl::StrCat(srcdir, "/", workspace, "/", binary)
                               : binary;
  std::vector<std::string> args = {path};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  const int rc = posix_spawn(&p->pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    p->pid_ = -1;
    return absl::InternalError(absl::StrCat("cannot start ", path, ": error ", rc));
  }
  const std::regex port_re("\"port\":\"([0-9]+)\"");
  std::smatch m;
  std::string text;
  const bool up = PollUntil(
      [&] {
        text = ReadFile(log);
        return text.find(ready_message) != std::string::npos && std::regex_search(text, m, port_re);
      },
      wait);
  if (!up) {
    return absl::DeadlineExceededError(
        absl::StrCat(binary, " did not log \"", ready_message, "\"; its log:\n", text));
  }
  p->address_ = absl::StrCat("127.0.0.1:", m[1].str());
  return p;
}

ServiceProcess::~ServiceProcess() { Kill(); }

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace updraft::e2e
