// SPDX-License-Identifier: MIT
#include "gpuctl/net/caller.hpp"

#include "gpuctl/net/interrupt.hpp"

#include <date/date.h>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <sstream>

namespace gpuctl::net {

void
SignalSleeper::sleep(Millis d)
{
  auto deadline = std::chrono::steady_clock::now() + d;
  for (;;) {
    if (interrupted()) {
      throw Error(ErrorKind::interrupted, "interrupted");
    }
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return;
    }
    pollfd p{interrupt_fd(), POLLIN, 0};
    int n = poll(&p, p.fd >= 0 ? 1 : 0, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) {
      return;
    }
  }
}

std::string
redact(std::string text, const std::vector<std::string>& secrets)
{
  for (const auto& s : secrets) {
    if (s.size() < 3) {
      continue; // too short to be a key; redacting it would mangle ordinary text
    }
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at)) {
      text.replace(at, s.size(), "[REDACTED]");
    }
  }
  return text;
}

std::optional<std::chrono::seconds>
parse_retry_after(std::string_view value, Instant now)
{
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long long s = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec != std::errc() || p != value.data() + value.size()) {
      return std::nullopt;
    }
    return std::chrono::seconds(s);
  }
  std::istringstream in{std::string(value)};
  date::sys_seconds at{};
#pragma GCC diagnostic push // GCC 12 false positive inside date::parse
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
  in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", at);
#pragma GCC diagnostic pop
  if (in.fail()) {
    return std::nullopt;
  }
  return std::max(std::chrono::seconds(0), at - now);
}

namespace {

std::string
path_of(const std::string& url)
{
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string
host_of(const std::string& url)
{
  auto scheme = url.find("://");
  auto start = scheme == std::string::npos ? 0 : scheme + 3;
  auto slash = url.find('/', start);
  return url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
}

bool
retryable_status(int status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string
transport_text(const TransportError& e, const Timeouts& t)
{
  switch (e.kind()) {
  case TransportError::Kind::timeout:
    return fmt::format("no answer within {:g} s ({})", t.total_s, e.what());
  case TransportError::Kind::reset:
    return fmt::format("connection closed before the answer ({})", e.what());
  default:
    return e.what();
  }
}

/// "threshold=4.5" in a vast.ai 429 body (specs/vast-api.md §9.4), seconds.
double
threshold_in(const std::string& body)
{
  auto at = body.find("threshold=");
  if (at == std::string::npos) {
    return 0;
  }
  const char* p = body.c_str() + at + 10;
  char* end = nullptr;
  double v = std::strtod(p, &end);
  return end == p || !std::isfinite(v) ? 0 : v;
}

} // namespace

Millis
Caller::backoff(const Operation& op, int attempt, const Response* last)
{
  // A provider's own rate threshold only matters after it refused a call as too frequent.
  double base = m_policy.base_s;
  if (last != nullptr && last->status == 429 && op.backoff_base_s > 0) {
    base = std::max(op.backoff_base_s, threshold_in(last->body));
  }
  double b = std::min(m_policy.cap_s, base * std::pow(2.0, attempt));
  // "Equal jitter": half fixed, half random, so processes that failed together spread out.
  std::uniform_real_distribution<double> jitter(0.0, b / 2);
  return Millis(static_cast<long long>((b / 2 + jitter(m_rng)) * 1000));
}

void
Caller::wait_before_retry(Millis wait)
{
  if (m_log) {
    m_log(fmt::format("http: retrying in {:.1f} s", static_cast<double>(wait.count()) / 1000));
  }
  m_sleeper.sleep(wait);
}

void
Caller::log_call(const Request& request, const std::string& outcome, Millis elapsed,
                 const std::vector<std::string>& secrets)
{
  if (m_log) {
    m_log(redact(fmt::format("http: {} {} -> {} ({} ms)", request.method, path_of(request.url),
                             outcome, elapsed.count()),
                 secrets));
  }
}

Response
Caller::call(const Operation& op, const Request& request, const std::vector<std::string>& secrets,
             const std::string& key_id)
{
  const int attempts = 1 + std::max(0, m_policy.retries);
  auto fail = [&](const std::string& what, int status, bool delivered) -> CallError {
    return CallError(redact(fmt::format("{} {}: {}", op.provider, op.name, what), secrets), status,
                     delivered);
  };
  for (int attempt = 0;; ++attempt) {
    if (interrupted()) {
      throw Error(ErrorKind::interrupted, "interrupted");
    }
    if (m_pacer && !op.pace_endpoint.empty() && op.pace_gap.count() > 0) {
      Millis wait = m_pacer(op.pace_endpoint, key_id, op.pace_gap);
      if (wait.count() > 0) {
        m_sleeper.sleep(wait);
      }
    }
    const bool last_attempt = attempt + 1 >= attempts;
    Response response;
    try {
      if (op.retry_safe) {
        response = m_transport.perform(request, m_timeouts);
      } else {
        Request fresh = request;
        fresh.fresh_connection = true;
        response = m_transport.perform(fresh, m_timeouts);
      }
    } catch (const TransportError& e) {
      if (interrupted()) {
        throw Error(ErrorKind::interrupted, "interrupted");
      }
      log_call(request, e.what(), Millis(0), secrets);
      if (e.kind() == TransportError::Kind::setup) {
        throw fail(e.what(), 0, false);
      }
      if (e.kind() == TransportError::Kind::connect) {
        // Nothing was sent: safe to retry whatever the operation.
        if (last_attempt) {
          throw fail(fmt::format("cannot reach {}: {} ({} attempts)", host_of(request.url),
                                 e.what(), attempt + 1),
                     0, false);
        }
      } else if (!op.retry_safe) {
        throw fail(transport_text(e, m_timeouts) + "; the request may have been carried out", 0,
                   true);
      } else if (last_attempt) {
        throw fail(fmt::format("{} ({} attempts)", transport_text(e, m_timeouts), attempt + 1), 0,
                   true);
      }
      wait_before_retry(backoff(op, attempt, nullptr));
      continue;
    }
    log_call(request, std::to_string(response.status), response.elapsed, secrets);
    bool garbled = false;
    if (op.expect_json && response.status >= 200 && response.status < 300) {
      response.json = nlohmann::json::parse(response.body, nullptr, false);
      garbled = response.json.is_discarded();
    }
    if (garbled) {
      if (!op.retry_safe) {
        throw fail("the answer is not valid JSON; the request may have been carried out",
                   response.status, true);
      }
      if (last_attempt) {
        throw fail(fmt::format("the answer is not valid JSON ({} attempts)", attempt + 1),
                   response.status, true);
      }
      wait_before_retry(backoff(op, attempt, nullptr));
      continue;
    }
    if (!retryable_status(response.status)) {
      return response;
    }
    if (response.status != 429 && !op.retry_safe) {
      throw fail(fmt::format("HTTP {}; the request may have been carried out", response.status),
                 response.status, true);
    }
    if (last_attempt) {
      throw fail(fmt::format("HTTP {}{} ({} attempts); try again later", response.status,
                             response.status == 429 ? " too many requests" : "", attempt + 1),
                 response.status, response.status != 429);
    }
    Millis wait = backoff(op, attempt, &response);
    if (response.retry_after) {
      auto asked = parse_retry_after(*response.retry_after, m_clock.now());
      if (asked) {
        if (asked->count() > m_policy.max_retry_after_s) {
          throw fail(fmt::format("HTTP {}: the server asks to wait {} s; try again later",
                                 response.status, asked->count()),
                     response.status, false);
        }
        wait = std::chrono::duration_cast<Millis>(*asked);
      }
    }
    wait_before_retry(wait);
  }
}

} // namespace gpuctl::net
