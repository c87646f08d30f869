// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <memory>
#include <string_view>

namespace gpuctl {

/// A UTC instant with one-second resolution; the DB stores it as epoch seconds (DESIGN §3).
using Instant = std::chrono::sys_seconds;

/// Where "now" comes from. Every service takes a Clock so tests run over simulated days.
class Clock {
public:
  virtual ~Clock() = default;
  /// The current instant, UTC, whole seconds.
  virtual Instant now() const = 0;
};

/// The system's real-time clock.
class SystemClock final : public Clock {
public:
  Instant now() const override;
};

/// A clock frozen at one instant (GPUCTL_NOW, tests).
class FixedClock final : public Clock {
public:
  explicit FixedClock(Instant at) : m_at(at) {}
  Instant now() const override { return m_at; }

private:
  Instant m_at;
};

/// The clock for this process: fixed at GPUCTL_NOW when `gpuctl_now` is non-null (RFC 3339 with
/// `Z` or an offset, or `@EPOCH`, DESIGN §9), else the system clock.
/// Throws Error(usage) naming GPUCTL_NOW for any other value.
std::unique_ptr<Clock> make_clock(const char* gpuctl_now);

} // namespace gpuctl
