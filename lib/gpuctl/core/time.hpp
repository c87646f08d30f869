// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/core/clock.hpp"

#include <date/date.h>


#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace gpuctl {

/// Parses RFC 3339 with `Z` or a `±HH:MM` offset ("2026-11-30T08:00:00Z",
/// "2026-11-30 09:00+01:00"; seconds and fractions optional). Returns nullopt when `text` is
/// not of that form or names an impossible date.
std::optional<Instant> parse_rfc3339(std::string_view text);

/// Parses `@EPOCH` (integer seconds). Returns nullopt otherwise.
std::optional<Instant> parse_epoch(std::string_view text);

/// Formats as RFC 3339 UTC with `Z`: "2026-11-30T08:00:00Z" (the JSON form, DESIGN §10).
std::string format_rfc3339(Instant t);

/// The zone in which output is shown and zone-less input is read (DESIGN §9: `--tz` >
/// `display.tz` > `TZ` > the system zone). "UTC" needs no time-zone database; any other zone is
/// looked up in the system's tzdata by howardhinnant-date, loaded on first use from
/// libgpuctl-tz.so (next to the binary, or in ../lib/gpuctl; GPUCTL_TZ_PLUGIN overrides).
class DisplayZone {
public:
  /// UTC.
  DisplayZone() = default;
  /// Resolves `name` ("" = $TZ, else the system zone). Throws Error(usage) when `name` is
  /// non-empty and not a known IANA zone.
  static DisplayZone resolve(std::string_view name);

  /// The IANA name ("UTC", "America/New_York").
  const std::string& name() const { return m_name; }
  bool is_utc() const { return m_zone == nullptr; }

  /// Local wall-clock time of `t` as "YYYY-MM-DD HH:MM" (with_seconds adds ":SS").
  std::string format(Instant t, bool with_seconds = false) const;
  /// The zone's abbreviation at `t` ("EST", "UTC").
  std::string abbreviation(Instant t) const;

  /// The instant of a local wall-clock time given as seconds since the local epoch.
  /// Throws Error(usage) naming `original` when the time falls in a DST gap; an ambiguous time
  /// (repeated hour) is the earlier instant.
  Instant from_local(date::local_seconds local, std::string_view original) const;
  /// Local wall-clock time of `t`.
  date::local_seconds to_local(Instant t) const;

private:
  std::string m_name = "UTC";
  const void* m_zone = nullptr; // a date::time_zone inside libgpuctl-tz.so; nullptr = UTC
};

/// Every zone name `--tz` and `display.tz` accept ("Europe/Berlin", "UTC", …), sorted: the names
/// of the time-zone database libgpuctl-tz.so reads (the system's tzdata). Only "UTC" when the
/// plug-in is missing or the database cannot be read.
std::vector<std::string> zone_names();

/// Parses a time argument (`--at --from --since --start --end`, DESIGN §9): RFC 3339 with Z or
/// an offset; `YYYY-MM-DD[ T]HH:MM[:SS]` in the display zone; `HH:MM` = today in the display
/// zone; `now`; `+DUR` / `-DUR` relative to now; `@EPOCH`. Throws Error(usage) naming `what`.
Instant parse_time(std::string_view text, Instant now, const DisplayZone& zone,
                   std::string_view what = "time");

} // namespace gpuctl
