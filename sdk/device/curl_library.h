#ifndef UPDRAFT_SDK_DEVICE_CURL_LIBRARY_H_
#define UPDRAFT_SDK_DEVICE_CURL_LIBRARY_H_

#include <curl/curl.h>

#include <string>

#include "absl/status/statusor.h"

namespace updraft::device {

// libcurl, loaded with dlopen when the SDK first needs it (the first transfer
// from an HTTP(S) chunk source) instead of being linked: an idle device then
// maps neither libcurl nor what it pulls in (GnuTLS, Kerberos, LDAP, a second
// OpenSSL...). Holds the functions http_chunk_source.cc calls, with
// <curl/curl.h>'s prototypes. A library is loaded (RTLD_NOW | RTLD_LOCAL)
// and curl_global_init'ed once per process and name, from whichever thread
// asks first; it stays loaded. The outcome of a failed load is kept too: a
// handset without libcurl gets the same error on every call.
class CurlLibrary {
 public:
  static constexpr char kDefaultName[] = "libcurl.so.4";

  // The process's libcurl.so.4, loaded on the first call.
  static absl::StatusOr<const CurlLibrary*> Load() { return Load(kDefaultName); }
  // The library `name` (a soname searched the dynamic loader's usual way, or
  // a path). INVALID_ARGUMENT for an empty name; FAILED_PRECONDITION naming
  // the library when it cannot be loaded, lacks one of the functions or
  // does not initialise.
  static absl::StatusOr<const CurlLibrary*> Load(const std::string& name);
  // Whether a Load of `name` has succeeded in this process (nothing is
  // loaded by asking).
  static bool Loaded(const std::string& name = kDefaultName);

  CurlLibrary(const CurlLibrary&) = delete;
  CurlLibrary& operator=(const CurlLibrary&) = delete;

  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;

 private:
  CurlLibrary() = default;
  static absl::StatusOr<const CurlLibrary*> Open(const std::string& name);
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_CURL_LIBRARY_H_
