// SPDX-License-Identifier: MIT
// The HTTP transport interface (DESIGN §2 net/): one request in, one response out. The libcurl
// implementation (curl_transport.cpp) is loaded with dlopen on first use so offline commands never
// load libcurl; tests inject their own Transport or talk to the fakes in tests/fakes.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gpuctl::net {

/// Header list in sending order; names as written (HTTP names are case-insensitive).
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request. `url` is absolute and never carries a secret (secrets go in headers).
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  /// false: send no body and no Content-Type (GET); true: send `body` even when empty.
  bool has_body = false;
  /// HTTP Basic credentials (user, password), encoded by libcurl; empty user = none.
  std::pair<std::string, std::string> basic_auth;
  /// Send on a new connection. libcurl silently re-sends a request whose reused keep-alive
  /// connection closed without an answer; a call that creates something must never be sent
  /// twice that way, so the Caller sets this for operations that are not retry-safe.
  bool fresh_connection = false;
};

/// One HTTP response.
struct Response {
  int status = 0;
  std::string body;
  std::string content_type;              ///< "" when absent
  std::optional<std::string> retry_after; ///< the raw Retry-After header, when present
  std::chrono::milliseconds elapsed{0};
  /// The body parsed once by the Caller for operations that expect JSON (2xx answers); null
  /// otherwise. Clients use it instead of parsing the body again.
  nlohmann::json json;
};

/// Per-request limits (config `[net] connect_timeout`, `timeout`), in seconds.
struct Timeouts {
  double connect_s = 10;
  double total_s = 60;
};

/// A request that got no complete HTTP answer. `kind` says whether the request may have reached
/// the server (everything but `connect` and `setup`): a call that creates something must then
/// look for what its attempt may have created before trying again.
class TransportError : public std::runtime_error {
public:
  enum class Kind {
    setup,   ///< libcurl missing or unusable; nothing was sent
    connect, ///< no connection (refused, DNS, TLS handshake); nothing was sent
    timeout, ///< connect or total timeout
    reset,   ///< connection reset / closed before a complete answer
    other
  };
  TransportError(Kind kind, const std::string& what) : std::runtime_error(what), m_kind(kind) {}
  Kind kind() const noexcept { return m_kind; }
  /// Whether the server may have received (and acted on) the request.
  bool maybe_delivered() const noexcept { return m_kind != Kind::setup && m_kind != Kind::connect; }

private:
  Kind m_kind;
};

/// Sends requests. Implementations throw TransportError when no complete answer arrived; any
/// HTTP status (including 4xx/5xx) is a Response.
class Transport {
public:
  virtual ~Transport() = default;
  virtual Response perform(const Request& request, const Timeouts& timeouts) = 0;
};

/// The libcurl transport: dlopens libcurl.so.4 on first use (GPUCTL_CURL_LIBRARY names another
/// file). TLS verification on; proxies from the usual environment variables;
/// keep-alive across requests of one process. Throws TransportError(setup) naming the library
/// when it cannot be loaded.
std::unique_ptr<Transport> make_curl_transport();

/// Percent-encodes `s` for a URL query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& s);

} // namespace gpuctl::net
