// SPDX-License-Identifier: MIT
#include "gpuctl/hibernate/wake_schedule.hpp"

#include "gpuctl/core/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace gpuctl::hibernate {

using namespace std::chrono;

namespace {

constexpr std::array<std::string_view, 7> short_names{"mon", "tue", "wed", "thu",
                                                      "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> long_names{"monday", "tuesday",  "wednesday", "thursday",
                                                     "friday", "saturday", "sunday"};

std::string
lower(std::string_view s)
{
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view
trim(std::string_view s)
{
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

/// 0 = Monday … 6 = Sunday, or -1.
int
day_index(std::string_view word)
{
  for (int i = 0; i < 7; ++i) {
    if (word == short_names[i] || word == long_names[i]) {
      return i;
    }
  }
  return -1;
}

/// The UTC offset in effect at `t` (local − UTC).
seconds
offset_at(const DisplayZone& zone, Instant t)
{
  return zone.to_local(t).time_since_epoch() - t.time_since_epoch();
}

/// The instant at which local time `local` fires (DESIGN §8): the unique instant; the earlier one
/// of a repeated time; the end of the gap for a time that does not exist.
Instant
fire_instant(const DisplayZone& zone, date::local_seconds local)
{
  const Instant naive{local.time_since_epoch()};
  // Real zones change offset at most once within two days, so the offsets a day either side
  // are the only candidates.
  const seconds before = offset_at(zone, naive - days(1));
  const seconds after = offset_at(zone, naive + days(1));
  std::optional<Instant> best;
  for (seconds off : {before, after}) {
    Instant t = naive - off;
    if (zone.to_local(t) == local && (!best || t < *best)) {
      best = t;
    }
  }
  if (best) {
    return *best;
  }
  if (after <= before) {
    throw Error(ErrorKind::failure,
                fmt::format("cannot place local time {} in {} (unexpected time-zone data)",
                            zone.format(naive), zone.name()));
  }
  // A gap: local times [T+before, T+after) do not exist, T being the transition. The first
  // instant whose local time is at or past `local` is T, the end of the gap.
  Instant lo = naive - after; // local time < `local` here
  Instant hi = naive - before; // local time > `local` here
  while (hi - lo > seconds(1)) {
    Instant mid = lo + (hi - lo) / 2;
    if (zone.to_local(mid) >= local) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

} // namespace

int
parse_clock(std::string_view text, std::string_view flag)
{
  auto bad = [&]() -> int {
    throw_usage("invalid {} '{}': use HH:MM, 00:00 to 23:59", flag, text);
  };
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3) {
    return bad();
  }
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string_view h = text.substr(0, colon), m = text.substr(colon + 1);
  if (!digits(h) || !digits(m)) {
    return bad();
  }
  int hh = std::stoi(std::string(h)), mm = std::stoi(std::string(m));
  if (hh > 23 || mm > 59) {
    return bad();
  }
  return hh * 60 + mm;
}

std::string
clock_text(int minute_of_day)
{
  return fmt::format("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60);
}

std::uint8_t
parse_days(std::string_view text, std::string_view flag)
{
  auto bad = [&](std::string_view why) -> std::uint8_t {
    throw_usage("invalid {} '{}': {} (use e.g. mon-fri, sat,sun, mon,wed-fri, daily, weekdays, "
                "weekends)",
                flag, text, why);
  };
  std::string all = lower(text);
  if (trim(all).empty()) {
    return bad("empty");
  }
  std::uint8_t mask = 0;
  std::string_view rest = all;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    if (item.empty()) {
      return bad("empty item");
    }
    if (item == "daily" || item == "all") {
      mask |= all_days;
    } else if (item == "weekdays") {
      mask |= 0x1f;
    } else if (item == "weekends") {
      mask |= 0x60;
    } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
      int a = day_index(trim(item.substr(0, dash)));
      int b = day_index(trim(item.substr(dash + 1)));
      if (a < 0 || b < 0) {
        return bad(fmt::format("unknown day range '{}'", item));
      }
      for (int i = a;; i = (i + 1) % 7) {
        mask |= static_cast<std::uint8_t>(1u << i);
        if (i == b) {
          break;
        }
      }
    } else {
      int d = day_index(item);
      if (d < 0) {
        return bad(fmt::format("unknown day '{}'", item));
      }
      mask |= static_cast<std::uint8_t>(1u << d);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return mask;
}

std::string
days_text(std::uint8_t days)
{
  days &= all_days;
  if (days == all_days) {
    return "daily";
  }
  if (days == 0) {
    return "none";
  }
  std::string out;
  for (int i = 0; i < 7;) {
    if ((days & (1u << i)) == 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j + 1 < 7 && (days & (1u << (j + 1))) != 0) {
      ++j;
    }
    auto add = [&](std::string_view s) {
      if (!out.empty()) {
        out += ',';
      }
      out += s;
    };
    if (j - i >= 2) {
      add(fmt::format("{}-{}", short_names[i], short_names[j]));
    } else {
      for (int k = i; k <= j; ++k) {
        add(short_names[k]);
      }
    }
    i = j + 1;
  }
  return out;
}

std::vector<Instant>
fire_instants(int minute_of_day, std::uint8_t days, const DisplayZone& zone, Instant from,
              Instant to)
{
  if (minute_of_day < 0 || minute_of_day >= 24 * 60) {
    throw_usage("time of day {} minutes is outside 00:00 to 23:59", minute_of_day);
  }
  std::vector<Instant> out;
  if (to <= from || (days & all_days) == 0) {
    return out;
  }
  // A firing belongs to a local date within a day of the window's local dates.
  auto first = floor<date::days>(zone.to_local(from)) - date::days(1);
  auto last = floor<date::days>(zone.to_local(to)) + date::days(1);
  for (auto d = first; d <= last; d += date::days(1)) {
    unsigned iso = date::weekday(d).iso_encoding(); // 1 = Monday … 7 = Sunday
    if ((days & (1u << (iso - 1))) == 0) {
      continue;
    }
    Instant t = fire_instant(zone, d + minutes(minute_of_day));
    if (t > from && t <= to) {
      out.push_back(t);
    }
  }
  return out;
}

Due
due(const WakeSchedule& s, const DisplayZone& zone, Instant last_sweep, Instant now)
{
  Due d;
  auto latest = [&](const std::optional<int>& minute) -> std::optional<Instant> {
    if (!minute) {
      return std::nullopt;
    }
    auto all = fire_instants(*minute, s.days, zone, last_sweep, now);
    if (all.empty()) {
      return std::nullopt;
    }
    return all.back();
  };
  d.wake_at = latest(s.wake_min);
  d.sleep_at = latest(s.sleep_min);
  if (d.wake_at && d.sleep_at) {
    if (*d.wake_at != *d.sleep_at) {
      d.wake = *d.wake_at > *d.sleep_at;
    } else {
      d.wake = *s.wake_min > *s.sleep_min;
    }
    d.sleep = !d.wake;
  } else {
    d.wake = d.wake_at.has_value();
    d.sleep = d.sleep_at.has_value();
  }
  return d;
}

} // namespace gpuctl::hibernate
