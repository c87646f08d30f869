// SPDX-License-Identifier: MIT
#include "gpuctl/output/dashboard.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/output/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace gpuctl::output {

namespace {

Style
band(const std::string& status)
{
  if (status == "safe") return Style::green;
  if (status == "warning") return Style::yellow;
  return Style::red;
}

std::string
bar(std::optional<double> share, bool unicode, int cells = 20)
{
  if (!share) {
    return std::string(static_cast<size_t>(cells), ' ');
  }
  int full = static_cast<int>(std::lround(std::clamp(*share, 0.0, 1.0) * cells));
  std::string out;
  for (int i = 0; i < cells; ++i) {
    out += i < full ? (unicode ? "\u2588" : "#") : (unicode ? "\u2591" : ".");
  }
  return out;
}

std::string
relative(Instant t, Instant now)
{
  auto d = t - now;
  return d.count() >= 0 ? "in " + human_duration(d) : human_duration(-d) + " ago";
}

std::vector<std::string>
split_lines(const std::string& text)
{
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    out.push_back(line);
  }
  return out;
}

/// A titled list: the title line, a table header, then one line per item.
struct Section {
  std::string title;
  std::vector<std::string> head; ///< lines always shown (the table header)
  std::vector<std::string> items;
};

Section
table_section(std::string title, const Table& t, bool color)
{
  Section s;
  s.title = std::move(title);
  auto lines = split_lines(t.render(color));
  if (!lines.empty()) {
    s.head.push_back(lines.front());
    s.items.assign(lines.begin() + 1, lines.end());
  }
  return s;
}

} // namespace

size_t
visible_width(const std::string& s)
{
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) { // CSI: ESC [ parameters final-byte
      ++i;
      if (i < s.size() && s[i] == '[') {
        while (i + 1 < s.size() && !(s[i + 1] >= 0x40 && s[i + 1] <= 0x7e)) {
          ++i;
        }
        ++i;
      }
      continue;
    }
    w += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return w;
}

std::string
cut_to_width(const std::string& s, size_t width)
{
  if (visible_width(s) <= width) {
    return s;
  }
  std::string out;
  size_t w = 0;
  bool styled_open = false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {
      size_t j = i + 1;
      if (j < s.size() && s[j] == '[') {
        while (j + 1 < s.size() && !(s[j + 1] >= 0x40 && s[j + 1] <= 0x7e)) {
          ++j;
        }
        ++j;
      }
      std::string seq = s.substr(i, j - i + 1);
      styled_open = seq != "\x1b[0m";
      out += seq;
      i = j;
      continue;
    }
    if ((c & 0xC0) != 0x80) {
      if (w == width) {
        break;
      }
      ++w;
    }
    out += static_cast<char>(c);
  }
  if (styled_open) {
    out += "\x1b[0m";
  }
  return out;
}

std::vector<std::string>
render_dashboard(const fleet::Dashboard& d, const DisplayZone& zone, double safe_below,
                 const FrameOptions& opt)
{
  const auto& p = d.pool;
  const bool c = opt.color;
  std::vector<std::string> top;
  top.push_back(styled("gpuctl status", Style::bold, c) + "  " + zone.format(d.at, true) + " " +
                zone.abbreviation(d.at));
  std::string states;
  for (const auto& [state, n] : p.by_state) {
    states += fmt::format("{}{} {}", states.empty() ? "" : ", ", n, state);
  }
  top.push_back(fmt::format("workers   {} total{}{}, {} enabled", p.workers_total,
                            states.empty() ? "" : ": ", states, p.workers_enabled));
  top.push_back(fmt::format("accounts  {} safe, {} warning, {} critical, {} exhausted; {:.1f} GPU-hours "
                            "usable below {:.0f}%",
                            p.bands.at("safe"), p.bands.at("warning"), p.bands.at("critical"),
                            p.bands.at("exhausted"), p.usable_hours_left, safe_below * 100));
  top.push_back(fmt::format("saved     ${:.2f} today by hibernation ({:.1f} h stopped since {})",
                            d.saved_today_usd, d.hibernated_today_h, zone.format(d.day_start)));

  std::vector<Section> sections;
  {
    Table t({"ACCOUNT", "PROVIDER", "QUOTA", "SHARE", "STATUS", "USED", "LEFT", "RESETS"});
    t.align_right(3);
    t.align_right(5);
    t.align_right(6);
    for (const auto& q : p.accounts) {
      const quota::WindowUsage* b = nullptr;
      for (const auto& w : q.windows) {
        if (q.binding && w.window.kind == *q.binding) {
          b = &w;
        }
      }
      std::string used = b ? fmt::format("{:.1f}h", b->used_h) : "-";
      std::string left = b ? fmt::format("{:.1f}h", b->left_h) : "-";
      if (!b && q.spend) {
        used = fmt::format("${:.2f}", q.spend->usd);
        left = q.spend->max_usd_per_day > 0
                   ? fmt::format("${:.2f}", std::max(0.0, q.spend->max_usd_per_day - q.spend->usd))
                   : "-";
      }
      t.add({q.account.name, q.account.provider,
             q.share ? bar(q.share, opt.unicode) : std::string("no budget"),
             q.share ? fmt::format("{:.0f}%", *q.share * 100) : "-", q.status, used, left,
             q.next_reset ? relative(*q.next_reset, d.at) : "-"},
            {Style::plain, Style::plain, band(q.status), Style::plain, band(q.status)});
    }
    sections.push_back(table_section(fmt::format("QUOTA ({} accounts)", p.accounts.size()), t, c));
  }
  {
    Table t({"WORKER", "ACCOUNT", "STARTED", "DEADLINE", "LEFT"});
    t.align_right(4);
    size_t n = 0;
    for (const auto& q : p.accounts) {
      for (const auto& s : q.sessions) {
        ++n;
        Style st = !s.warning ? Style::plain : *s.warning == "past" ? Style::red : Style::yellow;
        t.add({s.session.worker, s.session.account, zone.format(s.session.started_at),
               s.deadline ? zone.format(*s.deadline) : "-",
               s.left ? (s.left->count() >= 0 ? human_duration(*s.left) : "past") : "-"},
              {Style::plain, Style::plain, Style::plain, st, st});
      }
    }
    sections.push_back(table_section(fmt::format("SESSIONS ({} open)", n), t, c));
  }
  {
    Table t({"JOB", "NAME", "STATE", "WORKER", "STARTED", "RUNNING"});
    t.align_right(0);
    t.align_right(5);
    for (const auto& j : d.running) {
      auto since = j.started_at ? j.started_at : j.dispatched_at;
      t.add({std::to_string(j.id), j.name, j.state, j.worker_name.value_or("-"),
             since ? zone.format(*since) : "-", since ? human_duration(d.at - *since) : "-"});
    }
    sections.push_back(table_section(fmt::format("JOBS ({} running)", d.running.size()), t, c));
  }
  {
    Table t({"WORKER", "ACCOUNT", "GPU", "$/H SAVED"});
    t.align_right(3);
    for (const auto& w : d.hibernated) {
      t.add({w.name, w.account, fmt::format("{}x {}", w.gpu_count, w.gpu),
             w.price_usd_per_hour ? fmt::format("{:.2f}", *w.price_usd_per_hour) : "-"});
    }
    sections.push_back(table_section(fmt::format("HIBERNATED ({})", d.hibernated.size()), t, c));
  }

  // Fit the height: the top lines, the footer, and per section a blank line and its title
  // always; the header and items of a section only when it has items. Lists that do not fit
  // are cut, each keeping a fair share of the rows left, and end with "… N more".
  std::vector<size_t> shown(sections.size());
  for (size_t i = 0; i < sections.size(); ++i) {
    shown[i] = sections[i].items.size();
  }
  if (opt.height > 0) {
    long fixed = static_cast<long>(top.size()) + (opt.footer.empty() ? 0 : 2);
    for (const auto& s : sections) {
      fixed += 2 + (s.items.empty() ? 0 : static_cast<long>(s.head.size()));
    }
    long room = std::max(0L, opt.height - fixed);
    size_t total = 0;
    for (size_t n : shown) {
      total += n;
    }
    if (static_cast<long>(total) > room) {
      // Each section with items gets a share; one of its rows becomes "… N more".
      size_t open = 0;
      for (const auto& s : sections) {
        open += s.items.empty() ? 0 : 1;
      }
      for (size_t i = 0; i < sections.size(); ++i) {
        if (sections[i].items.empty()) {
          continue;
        }
        long share = open > 0 ? room / static_cast<long>(open) : 0;
        size_t n = sections[i].items.size();
        if (static_cast<long>(n) <= share) {
          shown[i] = n;
        } else {
          shown[i] = static_cast<size_t>(std::max(0L, share - 1)); // leaves a row for "… more"
        }
        room -= static_cast<long>(shown[i]) + (shown[i] < n ? 1 : 0);
        --open;
      }
    }
  }

  std::vector<std::string> out = top;
  for (size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    out.emplace_back();
    out.push_back(styled(s.title, Style::bold, c));
    if (s.items.empty()) {
      continue;
    }
    out.insert(out.end(), s.head.begin(), s.head.end());
    out.insert(out.end(), s.items.begin(), s.items.begin() + static_cast<long>(shown[i]));
    if (shown[i] < s.items.size()) {
      out.push_back(fmt::format("{} {} more", opt.unicode ? "\u2026" : "...", s.items.size() - shown[i]));
    }
  }
  if (!opt.footer.empty()) {
    out.emplace_back();
    out.push_back(styled(opt.footer, Style::dim, c));
  }
  if (opt.height > 0 && static_cast<long>(out.size()) > opt.height) {
    out.resize(static_cast<size_t>(opt.height));
  }
  for (auto& line : out) {
    line = cut_to_width(line, static_cast<size_t>(std::max(1, opt.width)));
  }
  return out;
}

} // namespace gpuctl::output
