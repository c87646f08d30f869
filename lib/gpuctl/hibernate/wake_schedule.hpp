// SPDX-License-Identifier: MIT
// Wake/sleep schedules of workers (`gpuctl hibernate schedule WORKER --wake 09:00 --sleep 18:00
// --tz ZONE [--days mon-fri]`, DESIGN §8): local wall-clock times in an IANA zone, turned into
// the UTC instants at which `hibernate-sweep` applies them. DST rule (DESIGN §8): a time in a
// DST gap fires at the end of the gap; a time in a repeated hour fires once, at its first
// occurrence.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuctl::hibernate {

/// Day mask bits: bit 0 = Monday … bit 6 = Sunday (ISO weekday − 1).
inline constexpr std::uint8_t all_days = 0x7f;

/// One worker's schedule. A missing wake or sleep time means "never" for that edge.
struct WakeSchedule {
  std::optional<int> wake_min;  ///< wake time, minutes after local midnight (0–1439)
  std::optional<int> sleep_min; ///< sleep time (hibernate regardless of utilisation), same unit
  std::string tz;               ///< IANA zone the times are read in ("America/New_York")
  std::uint8_t days = all_days; ///< local days on which both times fire; bit 0 = Monday … bit 6 = Sunday
};

/// Parses a clock time "HH:MM" (or "H:MM"), 00:00–23:59, into minutes after midnight.
/// Throws Error(usage) naming `flag` ("--wake") and the value for anything else.
int parse_clock(std::string_view text, std::string_view flag);

/// Formats minutes after midnight as "HH:MM" (the inverse of parse_clock).
std::string clock_text(int minute_of_day);

/// Parses a day set, case-insensitive: comma-separated day names (`mon` … `sun`, or the full
/// names) and ranges (`mon-fri`; a range may wrap: `fri-mon` = fri,sat,sun,mon), or one of the
/// words `daily` / `all`, `weekdays` (mon-fri), `weekends` (sat,sun); words and days mix
/// (`weekends,mon`). Returns the mask (bit 0 = Monday). Throws Error(usage) naming `flag` and
/// the value for an empty value, an unknown word or an empty item.
std::uint8_t parse_days(std::string_view text, std::string_view flag = "--days");

/// Canonical text of a day mask: "daily" for all seven, else runs of three or more days as ranges
/// and the rest as names, Monday first ("mon-fri", "sat,sun", "mon,wed-fri"); "none" for 0.
/// parse_days(days_text(m)) == m for every non-zero mask.
std::string days_text(std::uint8_t days);

/// Every instant in (from, to] at which the local time `minute_of_day` fires in `zone` on a
/// local date whose weekday is in `days`, in increasing order. DST (DESIGN §8): a local time
/// inside a gap fires at the end of the gap (the first instant after it, e.g. 02:30 on a
/// 02:00→03:00 spring-forward day fires at 03:00 of the new offset); a local time inside a
/// repeated hour fires once, at its first occurrence (the earlier offset), never twice. The
/// weekday is that of the local date the time belongs to, also when it fires at a gap's end.
/// Throws Error(usage) when minute_of_day is outside 0–1439, Error(failure) if the zone data
/// shows two offset changes within two days (no real zone does). Zone data: the system tzdata
/// through DisplayZone. Cost: a few zone look-ups per local day in the window.
std::vector<Instant> fire_instants(int minute_of_day, std::uint8_t days, const DisplayZone& zone,
                                   Instant from, Instant to);

/// What a sweep has to apply for one schedule.
struct Due {
  bool wake = false;              ///< wake the worker (a wake firing won)
  bool sleep = false;             ///< hibernate it regardless of utilisation (a sleep firing won)
  std::optional<Instant> wake_at;  ///< the latest wake firing in the window, if any
  std::optional<Instant> sleep_at; ///< the latest sleep firing in the window, if any
};

/// Which firings of `s` happened in (last_sweep, now], `zone` being `s.tz` resolved by the
/// caller. A firing is applied once, by the first sweep after it, however late cron ran; several
/// firings of one kind in the window count as one (the latest is reported). When both a wake and
/// a sleep fired in the window, the later one wins and only its flag is set (both instants are
/// still reported); when both fire at the same instant (two times in one DST gap, or equal
/// times), the later local time wins, and sleep wins between equal times. Empty window
/// (now ≤ last_sweep): nothing due.
Due due(const WakeSchedule& s, const DisplayZone& zone, Instant last_sweep, Instant now);

} // namespace gpuctl::hibernate
