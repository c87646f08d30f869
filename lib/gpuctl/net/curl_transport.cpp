// SPDX-License-Identifier: MIT
// libcurl behind dlopen (DESIGN §2): only <curl/curl.h>'s types and constants are used at compile
// time; the functions are looked up in libcurl.so.4 the first time a command talks to a provider,
// so `worker list`, `quota` and `schedule` never pay for loading libcurl's 30-odd libraries.
#include "gpuctl/net/http.hpp"
#include "gpuctl/net/interrupt.hpp"

#include <curl/curl.h>
#include <dlfcn.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>

namespace gpuctl::net {

namespace {

struct CurlApi {
  CURLcode (*global_init)(long) = nullptr;
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  void (*easy_reset)(CURL*) = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
};

template <typename F>
void
bind(void* lib, const char* name, F& out)
{
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    throw TransportError(TransportError::Kind::setup,
                         std::string("libcurl lacks ") + name + "; install libcurl4");
  }
  out = reinterpret_cast<F>(sym);
}

const CurlApi&
curl_api()
{
  static CurlApi api;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    const char* name = std::getenv("GPUCTL_CURL_LIBRARY");
    std::string file = name != nullptr && *name != '\0' ? name : "libcurl.so.4";
    void* lib = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      failure = "cannot load " + file + " (install the Debian package libcurl4): " + dlerror();
      return;
    }
    try {
      bind(lib, "curl_global_init", api.global_init);
      bind(lib, "curl_easy_init", api.easy_init);
      bind(lib, "curl_easy_setopt", api.easy_setopt);
      bind(lib, "curl_easy_perform", api.easy_perform);
      bind(lib, "curl_easy_getinfo", api.easy_getinfo);
      bind(lib, "curl_easy_reset", api.easy_reset);
      bind(lib, "curl_easy_cleanup", api.easy_cleanup);
      bind(lib, "curl_easy_strerror", api.easy_strerror);
      bind(lib, "curl_slist_append", api.slist_append);
      bind(lib, "curl_slist_free_all", api.slist_free_all);
    } catch (const TransportError& e) {
      failure = e.what();
      return;
    }
    api.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!failure.empty()) {
    throw TransportError(TransportError::Kind::setup, failure);
  }
  return api;
}

size_t
on_body(char* data, size_t size, size_t n, void* user)
{
  static_cast<Response*>(user)->body.append(data, size * n);
  return size * n;
}

std::string
lower(std::string s)
{
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string
trim(const std::string& s)
{
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) {
    ++b;
  }
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) {
    --e;
  }
  return s.substr(b, e - b);
}

size_t
on_header(char* data, size_t size, size_t n, void* user)
{
  auto* r = static_cast<Response*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) { // a new response (after a redirect or 100-continue)
    r->retry_after.reset();
    r->content_type.clear();
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = lower(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (name == "retry-after") {
      r->retry_after = value;
    } else if (name == "content-type") {
      r->content_type = value;
    }
  }
  return size * n;
}

// Called by libcurl about once a second and on every chunk: a non-zero return aborts the
// transfer, so SIGINT/SIGTERM cut a slow call short.
int
on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
  return interrupted() ? 1 : 0;
}

TransportError::Kind
classify(CURLcode code)
{
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    return TransportError::Kind::connect;
  case CURLE_OPERATION_TIMEDOUT:
    return TransportError::Kind::timeout;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return TransportError::Kind::reset;
  default:
    return TransportError::Kind::other;
  }
}

class CurlTransport final : public Transport {
public:
  CurlTransport() : m_api(curl_api())
  {
    m_easy = m_api.easy_init();
    if (m_easy == nullptr) {
      throw TransportError(TransportError::Kind::setup, "libcurl could not start a transfer");
    }
  }
  ~CurlTransport() override { m_api.easy_cleanup(m_easy); }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Response
  perform(const Request& req, const Timeouts& t) override
  {
    // One handle for the whole process: its connection cache keeps the connection alive
    // across calls (a 200-page listing opens one connection, not 200).
    m_api.easy_reset(m_easy);
    Response response;
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : req.headers) {
      headers = m_api.slist_append(headers, (name + ": " + value).c_str());
    }
    if (!req.has_body) {
      headers = m_api.slist_append(headers, "Expect:");
    }
    auto set = m_api.easy_setopt;
    set(m_easy, CURLOPT_URL, req.url.c_str());
    set(m_easy, CURLOPT_HTTPHEADER, headers);
    set(m_easy, CURLOPT_NOSIGNAL, 1L);
    set(m_easy, CURLOPT_SSL_VERIFYPEER, 1L);
    set(m_easy, CURLOPT_SSL_VERIFYHOST, 2L);
    set(m_easy, CURLOPT_FOLLOWLOCATION, 0L);
    // What the official clients accept (specs/vast-api.md §1.3): gzip and deflate, not brotli.
    set(m_easy, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    set(m_easy, CURLOPT_PROTOCOLS_STR, "http,https");
    set(m_easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.connect_s * 1000));
    set(m_easy, CURLOPT_TIMEOUT_MS, static_cast<long>(t.total_s * 1000));
    set(m_easy, CURLOPT_WRITEFUNCTION, &on_body);
    set(m_easy, CURLOPT_WRITEDATA, &response);
    set(m_easy, CURLOPT_HEADERFUNCTION, &on_header);
    set(m_easy, CURLOPT_HEADERDATA, &response);
    set(m_easy, CURLOPT_NOPROGRESS, 0L);
    set(m_easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
    if (req.fresh_connection) {
      set(m_easy, CURLOPT_FRESH_CONNECT, 1L);
      set(m_easy, CURLOPT_FORBID_REUSE, 1L);
    }
    if (!req.basic_auth.first.empty()) {
      set(m_easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      set(m_easy, CURLOPT_USERNAME, req.basic_auth.first.c_str());
      set(m_easy, CURLOPT_PASSWORD, req.basic_auth.second.c_str());
    }
    if (req.method == "GET") {
      set(m_easy, CURLOPT_HTTPGET, 1L);
    } else {
      set(m_easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (req.has_body) {
      set(m_easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
      set(m_easy, CURLOPT_POSTFIELDS, req.body.c_str());
    }
    auto start = std::chrono::steady_clock::now();
    CURLcode rc = m_api.easy_perform(m_easy);
    response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    m_api.slist_free_all(headers);
    if (rc != CURLE_OK) {
      throw TransportError(classify(rc), m_api.easy_strerror(rc));
    }
    long status = 0;
    m_api.easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

private:
  const CurlApi& m_api;
  CURL* m_easy = nullptr;
};

} // namespace

std::unique_ptr<Transport>
make_curl_transport()
{
  return std::make_unique<CurlTransport>();
}

std::string
url_encode(const std::string& s)
{
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace gpuctl::net
