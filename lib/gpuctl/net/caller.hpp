// SPDX-License-Identifier: MIT
// Retries, backoff, Retry-After, pacing, redaction and the --verbose call log, around a Transport
// (DESIGN §2 net/). Whether a call may be repeated is a property of the operation, not of the
// HTTP method (every Kaggle call is a POST), so each call names its Operation.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/net/http.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace gpuctl::net {

using Millis = std::chrono::milliseconds;

/// Waits between attempts. The real one sleeps and is cut short by SIGINT/SIGTERM (then throws
/// Error(interrupted)); tests record the waits instead of sleeping.
class Sleeper {
public:
  virtual ~Sleeper() = default;
  virtual void sleep(Millis d) = 0;
};

/// Sleeps for real; throws Error(interrupted) when a signal arrives (install_interrupt_handlers).
class SignalSleeper final : public Sleeper {
public:
  void sleep(Millis d) override;
};

/// Records every wait and returns at once (tests).
class RecordingSleeper final : public Sleeper {
public:
  void sleep(Millis d) override { waits.push_back(d); }
  std::vector<Millis> waits;
};

/// What a call does, for retry decisions, pacing and messages.
struct Operation {
  std::string provider; ///< "vast.ai", "Kaggle": starts every error message
  std::string name;     ///< "search offers", "SaveKernel"
  /// Safe to send again after a timeout, reset or 5xx (reads, idempotent state changes). Calls
  /// that create something are not: the caller must look for what the attempt may have created.
  /// A 429 is always retried: the server refused the call without acting on it.
  bool retry_safe = true;
  std::string pace_endpoint; ///< "" = not paced; else e.g. "GET /api/v1/instances/"
  Millis pace_gap{0};        ///< minimum gap between calls to pace_endpoint with one key
  /// Backoff base without Retry-After, seconds; 0 = the policy's. vast.ai sends no Retry-After,
  /// so its client uses max(threshold named in the 429 body, 1 s) (specs/vast-api.md §9.4).
  double backoff_base_s = 0;
  /// A 2xx answer must be JSON; a truncated or garbled body is then treated like a 5xx (retried
  /// when retry_safe). Off for downloads.
  bool expect_json = true;
};

/// Bounded retries (config `[net] retries` = attempts after the first).
struct RetryPolicy {
  int retries = 4;
  double base_s = 0.5;            ///< first backoff, doubled per attempt, with jitter
  double cap_s = 60;              ///< no single backoff longer than this
  double max_retry_after_s = 600; ///< a longer Retry-After ends the call (reported) instead
};

/// A call that failed after its retries. `maybe_delivered` is set when the last attempt may have
/// reached the server (timeout, reset, 5xx) so a creating call's outcome is unknown. `status` is
/// the last HTTP status, 0 when none arrived. Exit code 3 (DESIGN §9).
class CallError : public Error {
public:
  CallError(const std::string& message, int status, bool maybe_delivered)
      : Error(ErrorKind::provider, message), m_status(status), m_maybe_delivered(maybe_delivered)
  {
  }
  int status() const noexcept { return m_status; }
  bool maybe_delivered() const noexcept { return m_maybe_delivered; }

private:
  int m_status;
  bool m_maybe_delivered;
};

/// Reserves the next call slot for (endpoint, key id) given a minimum gap and returns how long to
/// wait before sending. gpuctl keeps the slots in the state file (store/api_calls) so cron, a
/// watch loop and a person's command share one pace.
using Pacer = std::function<Millis(const std::string& endpoint, const std::string& key_id, Millis gap)>;

/// Receives one line per HTTP call for --verbose / GPUCTL_DEBUG (method, path, status, ms), with
/// secrets already redacted.
using CallLog = std::function<void(const std::string& line)>;

/// Replaces every occurrence of each secret in `text` by "[REDACTED]".
std::string redact(std::string text, const std::vector<std::string>& secrets);

/// The delay a Retry-After value asks for, relative to `now`: delta-seconds or an HTTP date
/// (RFC 9110 §10.2.3). nullopt when it is neither.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Instant now);

/// Sends requests with retries. Not thread-safe.
class Caller {
public:
  Caller(Transport& transport, Sleeper& sleeper, const Clock& clock, RetryPolicy policy,
         Timeouts timeouts)
      : m_transport(transport), m_sleeper(sleeper), m_clock(clock), m_policy(policy),
        m_timeouts(timeouts)
  {
  }

  void set_pacer(Pacer pacer) { m_pacer = std::move(pacer); }
  void set_log(CallLog log) { m_log = std::move(log); }
  /// Seeds the backoff jitter (tests).
  void seed(std::uint64_t s) { m_rng.seed(s); }

  /// Sends `request` for `op`, retrying 429 always and 5xx/timeouts/resets when op.retry_safe.
  /// Returns the first response that is not retried (any status, including 4xx) — the provider
  /// client classifies it. Throws CallError after the last attempt (naming provider, call,
  /// status or transport failure and the attempt count; `secrets` redacted), Error(interrupted)
  /// on SIGINT/SIGTERM, and CallError(status 0) when libcurl cannot be loaded.
  Response call(const Operation& op, const Request& request, const std::vector<std::string>& secrets,
                const std::string& key_id = "");

private:
  Millis backoff(const Operation& op, int attempt, const Response* last);
  void wait_before_retry(Millis wait);
  void log_call(const Request& request, const std::string& outcome, Millis elapsed,
                const std::vector<std::string>& secrets);

  Transport& m_transport;
  Sleeper& m_sleeper;
  const Clock& m_clock;
  RetryPolicy m_policy;
  Timeouts m_timeouts;
  Pacer m_pacer;
  CallLog m_log;
  std::mt19937_64 m_rng{0x6770756374ULL};
};

} // namespace gpuctl::net
