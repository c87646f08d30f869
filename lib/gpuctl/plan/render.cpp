// SPDX-License-Identifier: MIT
#include "gpuctl/plan/render.hpp"

#include "gpuctl/output/table.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace gpuctl::plan {

namespace {

using json = nlohmann::ordered_json;
using namespace std::chrono;

double
round3(double x)
{
  return std::round(x * 1000.0) / 1000.0;
}

std::string
summary_line(const Plan& p)
{
  return fmt::format("{}: min {} online (ceiling {}), mean {:.2f}, {:.1f} GPU-hours in {} sessions "
                     "(at least {}), {:.1f} h above the minimum",
                     to_string(p.strategy), p.min_online, p.ceiling, p.mean_online, p.planned_hours,
                     p.sessions, p.min_sessions, p.above_min_hours);
}

std::string
ics_time(Instant t)
{
  auto day = floor<date::days>(t);
  date::year_month_day ymd{day};
  date::hh_mm_ss<seconds> tod{t - day};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     tod.hours().count(), tod.minutes().count(), tod.seconds().count());
}

// RFC 5545 §3.1: lines longer than 75 octets are folded with CRLF + one space, never inside a
// UTF-8 sequence; §3.3.11: TEXT escapes backslash, semicolon, comma and newline.
std::string
fold(const std::string& line)
{
  std::string out;
  size_t pos = 0, limit = 75;
  while (line.size() - pos > limit) {
    size_t cut = pos + limit;
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out += line.substr(pos, cut - pos) + "\r\n ";
    pos = cut;
    limit = 74; // the leading space counts
  }
  return out + line.substr(pos) + "\r\n";
}

std::string
ics_text(const std::string& s)
{
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

json
render_json(const Plan& p, const std::string& tz)
{
  json slots = json::array();
  for (const auto& s : p.slots) {
    slots.push_back({{"worker", s.worker},
                     {"account", s.account},
                     {"provider", s.provider},
                     {"start", format_rfc3339(s.start)},
                     {"end", format_rfc3339(s.end)}});
  }
  json online = json::array();
  for (const auto& o : p.online) {
    json by = json::object();
    for (const auto& [k, v] : o.by_provider) {
      by[k] = v;
    }
    online.push_back({{"start", format_rfc3339(o.start)},
                      {"end", format_rfc3339(o.end)},
                      {"count", o.count},
                      {"by_provider", by}});
  }
  return json{{"strategy", to_string(p.strategy)},
              {"from", format_rfc3339(p.from)},
              {"to", format_rfc3339(p.to)},
              {"tz", tz},
              {"min_online", p.min_online},
              {"ceiling", p.ceiling},
              {"mean_online", round3(p.mean_online)},
              {"above_min_hours", round3(p.above_min_hours)},
              {"planned_hours", round3(p.planned_hours)},
              {"sessions", p.sessions},
              {"min_sessions", p.min_sessions},
              {"slots", slots},
              {"online", online}};
}

std::string
render_table(const Plan& p, const DisplayZone& zone, bool color)
{
  std::set<std::string> providers;
  for (const auto& o : p.online) {
    for (const auto& [k, v] : o.by_provider) providers.insert(k);
  }
  std::vector<std::string> headers{"HOUR (" + zone.name() + ")", "MIN", "MAX"};
  for (const auto& pr : providers) headers.push_back(pr);
  output::Table t(headers);
  for (size_t i = 1; i < headers.size(); ++i) t.align_right(i);
  for (Instant h = p.from; h < p.to; h += hours(1)) {
    Instant e = std::min(h + hours(1), p.to);
    int lo = INT32_MAX, hi = 0;
    std::map<std::string, int> plo;
    for (const auto& pr : providers) plo[pr] = INT32_MAX;
    for (const auto& o : p.online) {
      if (o.end <= h || o.start >= e) continue;
      lo = std::min(lo, o.count);
      hi = std::max(hi, o.count);
      for (const auto& pr : providers) {
        auto it = o.by_provider.find(pr);
        plo[pr] = std::min(plo[pr], it == o.by_provider.end() ? 0 : it->second);
      }
    }
    if (lo == INT32_MAX) lo = 0;
    std::vector<std::string> row{zone.format(h), std::to_string(lo), std::to_string(hi)};
    std::vector<output::Style> st{output::Style::plain,
                                  lo < p.min_online + 1 ? output::Style::plain : output::Style::green};
    for (const auto& pr : providers) row.push_back(std::to_string(plo[pr] == INT32_MAX ? 0 : plo[pr]));
    t.add(row, st);
  }
  return summary_line(p) + "\n\n" + t.render(color);
}

std::string
render_gantt(const Plan& p, const DisplayZone& zone, int width, bool color)
{
  std::vector<std::string> workers;
  std::map<std::string, std::string> account_of;
  for (const auto& s : p.slots) {
    if (!account_of.count(s.worker)) workers.push_back(s.worker);
    account_of[s.worker] = s.account;
  }
  std::sort(workers.begin(), workers.end());
  size_t label = 6;
  for (const auto& w : workers) label = std::max(label, output::display_width(w));
  int cells = std::max(24, width - static_cast<int>(label) - 2);
  double span = duration<double>(p.to - p.from).count();
  double per_cell = span / cells;
  auto cell_start = [&](int c) { return p.from + seconds(static_cast<long long>(std::llround(c * per_cell))); };
  // Ruler in the display zone: '|' where a local day starts, '·' every 6 local hours, and the
  // day's name above its first cell.
  std::string days(static_cast<size_t>(cells), ' ');
  std::vector<std::string> ruler(static_cast<size_t>(cells), " ");
  size_t label_end = 0;
  for (int c = 0; c < cells; ++c) {
    auto lt = zone.to_local(cell_start(c));
    auto day = floor<date::days>(lt);
    auto block = duration_cast<hours>(lt - day).count() / 6;
    bool new_day = c == 0;
    bool new_block = false;
    if (c > 0) {
      auto prev = zone.to_local(cell_start(c - 1));
      auto pday = floor<date::days>(prev);
      new_day = pday != day;
      new_block = !new_day && duration_cast<hours>(prev - pday).count() / 6 != block;
    }
    if (new_day) {
      if (c > 0) ruler[static_cast<size_t>(c)] = "|";
      std::string lbl = date::format("%a %d", day);
      if (static_cast<size_t>(c) >= label_end && static_cast<size_t>(c) + lbl.size() <= days.size()) {
        days.replace(static_cast<size_t>(c), lbl.size(), lbl);
        label_end = static_cast<size_t>(c) + lbl.size() + 1;
      }
    } else if (new_block) {
      ruler[static_cast<size_t>(c)] = "·";
    }
  }
  std::string out = summary_line(p) + "\n\n";
  out += std::string(label + 2, ' ') + days + "\n";
  out += fmt::format("{:<{}}  ", zone.name().size() <= label ? zone.name() : "", label);
  for (const auto& r : ruler) out += r;
  out += "\n";
  for (const auto& w : workers) {
    std::vector<double> cover(static_cast<size_t>(cells), 0.0);
    for (const auto& s : p.slots) {
      if (s.worker != w) continue;
      for (int c = 0; c < cells; ++c) {
        Instant a = cell_start(c), b = cell_start(c + 1);
        Instant x = std::max(a, s.start), y = std::min(b, s.end);
        if (y > x) cover[static_cast<size_t>(c)] += duration<double>(y - x).count() / duration<double>(b - a).count();
      }
    }
    std::string row;
    for (double f : cover) {
      row += f >= 0.999 ? "█" : f > 0.001 ? "▌" : " ";
    }
    out += fmt::format("{}{}  {}\n", w, std::string(label - output::display_width(w), ' '),
                       output::styled(row, output::Style::green, color));
  }
  return out;
}

std::string
render_ics(const Plan& p, Instant stamp)
{
  std::string out;
  out += fold("BEGIN:VCALENDAR");
  out += fold("VERSION:2.0");
  out += fold("PRODID:-//gpuctl//gpuctl schedule//EN");
  out += fold("CALSCALE:GREGORIAN");
  for (const auto& s : p.slots) {
    out += fold("BEGIN:VEVENT");
    out += fold(fmt::format("UID:{}-{}@gpuctl", s.worker, s.start.time_since_epoch().count()));
    out += fold("DTSTAMP:" + ics_time(stamp));
    out += fold("DTSTART:" + ics_time(s.start));
    out += fold("DTEND:" + ics_time(s.end));
    out += fold("SUMMARY:" + ics_text(fmt::format("GPU session: start {} ({} account {})", s.worker,
                                                  s.provider, s.account)));
    out += fold("DESCRIPTION:" +
                ics_text(fmt::format("gpuctl {} plan: run worker {} of account {} from {} to {} "
                                     "UTC, then stop it.",
                                     to_string(p.strategy), s.worker, s.account,
                                     format_rfc3339(s.start), format_rfc3339(s.end))));
    out += fold("BEGIN:VALARM");
    out += fold("ACTION:DISPLAY");
    out += fold("TRIGGER:-PT10M");
    out += fold("DESCRIPTION:" + ics_text(fmt::format("Start {} in 10 minutes", s.worker)));
    out += fold("END:VALARM");
    out += fold("END:VEVENT");
  }
  out += fold("END:VCALENDAR");
  return out;
}

} // namespace gpuctl::plan
