// SPDX-License-Identifier: MIT
#include "gpuctl/core/duration.hpp"

#include "gpuctl/core/error.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace gpuctl {

namespace {

int
unit_rank(char c)
{
  switch (c) {
  case 'd': return 0;
  case 'h': return 1;
  case 'm': return 2;
  case 's': return 3;
  default: return -1;
  }
}

constexpr double k_unit_seconds[] = {86400.0, 3600.0, 60.0, 1.0};

} // namespace

Seconds
parse_duration(std::string_view text, std::string_view what)
{
  auto bad = [&](std::string_view why) -> Seconds {
    throw_usage("invalid {} '{}': {} (use e.g. 90m, 1h30m, 1.5h, 2d)", what, text, why);
  };
  if (text.empty()) {
    return bad("empty");
  }
  double total = 0.0;
  int last_rank = -1;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool dot = false;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      if (text[i] == '.') {
        if (dot) {
          return bad("malformed number");
        }
        dot = true;
      }
      ++i;
    }
    if (i == start) {
      return bad(text[i] == '-' || text[i] == '+' ? "no sign allowed" : "expected a number");
    }
    std::string number(text.substr(start, i - start));
    if (number == "." || number.front() == '.' || number.back() == '.') {
      return bad("malformed number");
    }
    if (i == text.size()) {
      return bad("missing unit (d, h, m or s)");
    }
    int rank = unit_rank(text[i]);
    if (rank < 0) {
      return bad(fmt::format("unknown unit '{}'", text[i]));
    }
    if (rank <= last_rank) {
      return bad("units must appear once each, in the order d h m s");
    }
    last_rank = rank;
    total += std::strtod(number.c_str(), nullptr) * k_unit_seconds[rank];
    ++i;
  }
  // Ten years is past any quota window, session or idle time; beyond it, times computed from
  // a duration (a session's deadline) would leave the calendar gpuctl prints.
  if (!std::isfinite(total) || total > 3650.0 * 86400.0) {
    return bad("too large (at most 3650d)");
  }
  return Seconds(static_cast<long long>(std::llround(total)));
}

std::optional<Seconds>
parse_duration_or_never(std::string_view text, std::string_view what)
{
  if (text == "never") {
    return std::nullopt;
  }
  return parse_duration(text, what);
}

std::string
format_duration(Seconds d)
{
  long long s = d.count();
  if (s == 0) {
    return "0s";
  }
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  const long long parts[] = {s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60};
  const char units[] = {'d', 'h', 'm', 's'};
  for (int i = 0; i < 4; ++i) {
    if (parts[i] != 0) {
      out += fmt::format("{}{}", parts[i], units[i]);
    }
  }
  return out;
}

std::string
human_duration(Seconds d)
{
  long long s = d.count();
  std::string sign;
  if (s < 0) {
    sign = "-";
    s = -s;
  }
  const long long parts[] = {s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60};
  const char units[] = {'d', 'h', 'm', 's'};
  int first = 0;
  while (first < 3 && parts[first] == 0) {
    ++first;
  }
  std::string out = fmt::format("{}{}{}", sign, parts[first], units[first]);
  if (first < 3 && parts[first + 1] != 0) {
    out += fmt::format(" {}{}", parts[first + 1], units[first + 1]);
  }
  return out;
}

} // namespace gpuctl
