// SPDX-License-Identifier: MIT
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gpuctl {

using Seconds = std::chrono::seconds;

/// Parses a duration per DESIGN §9: one or more `<number><unit>` with units d h m s in that
/// order, each at most once; numbers are integers or decimals ("90m", "1h30m", "1.5h", "2d").
/// The result is rounded to whole seconds. Throws Error(usage) naming `what` and the value for
/// anything else (sign, bare number, empty string, unknown unit, units out of order).
Seconds parse_duration(std::string_view text, std::string_view what = "duration");

/// Like parse_duration, but also accepts the word "never" (returned as std::nullopt).
std::optional<Seconds> parse_duration_or_never(std::string_view text,
                                               std::string_view what = "duration");

/// Canonical compact form used in config and JSON-adjacent text: "12h", "1h30m", "45s", "0s".
std::string format_duration(Seconds d);

/// Human form for tables and messages, at most two units: "2d 4h", "3h 5m", "12m", "45s".
/// Negative durations are prefixed with "-".
std::string human_duration(Seconds d);

} // namespace gpuctl
