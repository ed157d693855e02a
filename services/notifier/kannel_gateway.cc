#include "services/notifier/kannel_gateway.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace updraft::notifier {
namespace {

struct HttpResponse {
  long code = 0;
  std::string body;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One HTTP request with libcurl; UNAVAILABLE when there is no answer.
absl::StatusOr<HttpResponse> Http(const std::string& url, const std::string* post_body,
                                  const std::vector<std::string>& headers,
                                  const std::string& userpwd, absl::Duration timeout) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_owner(list, curl_slist_free_all);
  HttpResponse resp;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &resp.body);
  if (list != nullptr) curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
  if (!userpwd.empty()) curl_easy_setopt(curl.get(), CURLOPT_USERPWD, userpwd.c_str());
  if (post_body != nullptr) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
  }
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("gateway unreachable: ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &resp.code);
  return resp;
}

std::string UrlEncode(absl::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string XmlEscape(absl::string_view in) {
  return absl::StrReplaceAll(
      in, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&apos;"}});
}

std::string Iso8601(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

std::vector<SmsPart> SplitBinarySms(const std::string& payload, uint8_t ref) {
  const std::string port = {0x05,
                            0x04,
                            static_cast<char>(kNotificationSmsPort >> 8),
                            static_cast<char>(kNotificationSmsPort & 0xff),
                            0x00,
                            0x00};
  if (payload.size() <= kSingleSmsPayload) {
    return {{std::string(1, static_cast<char>(port.size())) + port, payload}};
  }
  constexpr size_t kPart = 128;  // 140 - 12-byte UDH
  const size_t total = (payload.size() + kPart - 1) / kPart;
  std::vector<SmsPart> parts;
  for (size_t i = 0; i < total; ++i) {
    std::string udh = port + std::string{0x00, 0x03, static_cast<char>(ref),
                                         static_cast<char>(total), static_cast<char>(i + 1)};
    parts.push_back(
        {std::string(1, static_cast<char>(udh.size())) + udh, payload.substr(i * kPart, kPart)});
  }
  return parts;
}

absl::Status ValidateMsisdn(const std::string& msisdn) {
  bool ok = msisdn.size() >= 6 && msisdn.size() <= 16 && msisdn[0] == '+';
  for (size_t i = 1; ok && i < msisdn.size(); ++i) ok = absl::ascii_isdigit(msisdn[i]);
  if (!ok) return absl::InvalidArgumentError("msisdn must be \"+\" and 5 to 15 digits");
  return absl::OkStatus();
}

PapRequest BuildPapPush(const WapPushGateway::Push& p) {
  const std::string boundary = "updraft-pap-boundary";
  std::string pap = absl::StrCat(
      "<?xml version=\"1.0\"?>\r\n"
      "<!DOCTYPE pap PUBLIC \"-//WAPFORUM//DTD PAP 2.0//EN\" "
      "\"http://www.wapforum.org/DTD/pap_2.0.dtd\">\r\n"
      "<pap><push-message push-id=\"",
      XmlEscape(p.push_id), "\"><address address-value=\"WAPPUSH=", XmlEscape(p.msisdn),
      "/TYPE=PLMN@ppg.updraft\"/><quality-of-service delivery-method=\"unconfirmed\" "
      "network=\"GSM\" bearer=\"SMS\"/></push-message></pap>\r\n");
  std::string si = absl::StrCat(
      "<?xml version=\"1.0\"?>\r\n"
      "<!DOCTYPE si PUBLIC \"-//WAPFORUM//DTD SI 1.0//EN\" "
      "\"http://www.wapforum.org/DTD/si.dtd\">\r\n"
      "<si><indication href=\"",
      XmlEscape(p.href), "\" si-id=\"", XmlEscape(p.push_id), "\" created=\"", Iso8601(p.created),
      "\" si-expires=\"", Iso8601(p.expires), "\">", XmlEscape(p.text), "</indication></si>\r\n");
  PapRequest r;
  r.content_type =
      absl::StrCat("multipart/related; boundary=", boundary, "; type=\"application/xml\"");
  r.body =
      absl::StrCat("--", boundary, "\r\nContent-Type: application/xml\r\n\r\n", pap, "--", boundary,
                   "\r\nContent-Type: text/vnd.wap.si\r\n\r\n", si, "--", boundary, "--\r\n");
  return r;
}

absl::Status KannelSmsGateway::SendBinary(const std::string& msisdn, const std::string& payload) {
  absl::Status valid = ValidateMsisdn(msisdn);
  if (!valid.ok()) return valid;
  uint8_t ref = payload.empty() ? 0 : static_cast<uint8_t>(payload.back() ^ payload.size());
  for (const SmsPart& part : SplitBinarySms(payload, ref)) {
    std::string url =
        absl::StrCat(options_.sendsms_url, "?username=", UrlEncode(options_.username),
                     "&password=", UrlEncode(options_.password), "&from=", UrlEncode(options_.from),
                     "&to=", UrlEncode(msisdn), "&coding=1&udh=", UrlEncode(part.udh),
                     "&text=", UrlEncode(part.data));
    auto resp = Http(url, nullptr, {}, "", options_.timeout);
    if (!resp.ok()) return resp.status();
    if (resp->code / 100 != 2 ||
        !(absl::StartsWith(resp->body, "0:") || absl::StartsWith(resp->body, "3:"))) {
      return absl::UnavailableError(absl::StrCat("sendsms answered HTTP ", resp->code, ": ",
                                                 absl::StripAsciiWhitespace(resp->body)));
    }
  }
  return absl::OkStatus();
}

absl::Status KannelWapPushGateway::Send(const Push& push) {
  absl::Status valid = ValidateMsisdn(push.msisdn);
  if (!valid.ok()) return valid;
  PapRequest req = BuildPapPush(push);
  // Kannel copies User-Agent and Accept into the WSP header: send neither.
  auto resp = Http(options_.ppg_url, &req.body,
                   {"Content-Type: " + req.content_type, "Accept:", "User-Agent:", "Expect:"},
                   options_.username + ":" + options_.password, options_.timeout);
  if (!resp.ok()) return resp.status();
  if (resp->code != 202 || !absl::StrContains(resp->body, "code=\"1001\"")) {
    return absl::UnavailableError(absl::StrCat("PPG answered HTTP ", resp->code, ": ",
                                               absl::StripAsciiWhitespace(resp->body)));
  }
  return absl::OkStatus();
}

}  // namespace updraft::notifier
