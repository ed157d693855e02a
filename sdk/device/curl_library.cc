#include "sdk/device/curl_library.h"

#include <dlfcn.h>

#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace updraft::device {
namespace {

// What each name's Load came to, kept for the process's lifetime (a loaded
// library is never unloaded).
struct Registry {
  absl::Mutex mu;
  std::map<std::string, absl::StatusOr<const CurlLibrary*>> outcomes ABSL_GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* const registry = new Registry;
  return *registry;
}

absl::Status Unusable(const std::string& name, absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot use ", name, " (libcurl, needed for HTTP(S) download sources): ", why));
}

template <typename F>
bool Resolve(void* handle, const char* symbol, F* out) {
  *out = reinterpret_cast<F>(dlsym(handle, symbol));
  return *out != nullptr;
}

}  // namespace

absl::StatusOr<const CurlLibrary*> CurlLibrary::Load(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("the libcurl library name is empty");
  Registry& r = TheRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.outcomes.find(name);
  if (it == r.outcomes.end()) it = r.outcomes.emplace(name, Open(name)).first;
  return it->second;
}

bool CurlLibrary::Loaded(const std::string& name) {
  Registry& r = TheRegistry();
  absl::MutexLock lock(&r.mu);
  auto it = r.outcomes.find(name);
  return it != r.outcomes.end() && it->second.ok();
}

absl::StatusOr<const CurlLibrary*> CurlLibrary::Open(const std::string& name) {
  void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    return Unusable(name, error != nullptr ? error : "dlopen failed");
  }
  auto lib = std::unique_ptr<CurlLibrary>(new CurlLibrary);
  decltype(&::curl_global_init) global_init = nullptr;
  const char* missing = nullptr;
  if (!Resolve(handle, "curl_global_init", &global_init)) missing = "curl_global_init";
  if (!Resolve(handle, "curl_easy_init", &lib->easy_init)) missing = "curl_easy_init";
  if (!Resolve(handle, "curl_easy_setopt", &lib->easy_setopt)) missing = "curl_easy_setopt";
  if (!Resolve(handle, "curl_easy_perform", &lib->easy_perform)) missing = "curl_easy_perform";
  if (!Resolve(handle, "curl_easy_getinfo", &lib->easy_getinfo)) missing = "curl_easy_getinfo";
  if (!Resolve(handle, "curl_easy_cleanup", &lib->easy_cleanup)) missing = "curl_easy_cleanup";
  if (!Resolve(handle, "curl_easy_strerror", &lib->easy_strerror)) missing = "curl_easy_strerror";
  if (missing != nullptr) {
    dlclose(handle);
    return Unusable(name, absl::StrCat("it has no ", missing));
  }
  // Once per loaded library, before its first transfer, with no other thread
  // inside it (the registry's lock is held).
  const CURLcode init = global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    const std::string why =
        absl::StrCat("curl_global_init failed (", lib->easy_strerror(init), ")");
    dlclose(handle);
    return Unusable(name, why);
  }
  return lib.release();  // kept for the process's lifetime, as is the library
}

}  // namespace updraft::device
