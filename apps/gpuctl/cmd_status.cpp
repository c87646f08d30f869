// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/fleet/dashboard.hpp"
#include "gpuctl/fleet/status.hpp"
#include "gpuctl/net/interrupt.hpp"
#include "gpuctl/output/dashboard.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/output/terminal.hpp"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace gpuctl::app {

output::Style band_style(const std::string& status);
std::string when_with_relative(Context& ctx, Instant t);

namespace {

std::atomic<bool> g_resized{false};

extern "C" void
on_winch(int)
{
  g_resized.store(true);
}

/// The start of the local day of `now` in the display zone (the offset in force now).
Instant
local_day_start(Context& ctx, Instant now)
{
  auto local = ctx.zone().to_local(now);
  auto midnight = std::chrono::floor<date::days>(local);
  return now - std::chrono::duration_cast<Seconds>(local - midnight);
}

enum class Wake { timeout, quit, redraw };

/// Waits until `deadline` for a key on stdin (when `keys`), SIGINT/SIGTERM or SIGWINCH.
Wake
wait_until(std::chrono::steady_clock::time_point deadline, bool& keys)
{
  for (;;) {
    if (net::interrupted()) {
      return Wake::quit;
    }
    if (g_resized.exchange(false)) {
      return Wake::redraw;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Wake::timeout;
    }
    pollfd fds[2] = {{net::interrupt_fd(), POLLIN, 0}, {keys ? STDIN_FILENO : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n < 0) {
      continue; // EINTR: a signal; the flags above say which
    }
    if (n > 0 && keys && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[64];
      ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      if (got <= 0) {
        keys = false; // end of input: only signals quit now
        continue;
      }
      for (ssize_t i = 0; i < got; ++i) {
        if (buf[i] == 'q' || buf[i] == 'Q') {
          return Wake::quit;
        }
      }
    }
  }
}

/// `status --watch`: re-reads the state file every `every` and shows it until q, SIGINT or
/// SIGTERM (exit 0). On a terminal a full-screen view; otherwise plain text frames, or with
/// --json one status document per line.
int
watch_status(Context& ctx, Seconds every)
{
  net::install_interrupt_handlers();
  struct sigaction sa = {};
  sa.sa_handler = on_winch;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGWINCH, &sa, nullptr);

  const bool full = !ctx.json() && ::isatty(STDOUT_FILENO) == 1;
  bool keys = full && ::isatty(STDIN_FILENO) == 1;
  const double safe_below = ctx.config().get_number("quota.safe_below");
  const std::string footer =
      fmt::format("every {}; {} quits", format_duration(every), keys ? "q or Ctrl-C" : "Ctrl-C");
  std::optional<output::FullScreen> screen;
  if (full) {
    screen.emplace(STDIN_FILENO, STDOUT_FILENO);
  }
  bool first = true;
  for (;;) {
    auto next = std::chrono::steady_clock::now() + every;
    Instant now = ctx.now();
    if (ctx.json()) {
      auto db = ctx.open(store::Access::read);
      auto j = output::status_json(fleet::pool_status(db, ctx.config(), now));
      j["at"] = format_rfc3339(now);
      output::write_all(STDOUT_FILENO, j.dump() + "\n");
    } else {
      fleet::Dashboard d;
      {
        auto db = ctx.open(store::Access::read);
        d = fleet::dashboard(db, ctx.config(), now, local_day_start(ctx, now));
      }
      output::FrameOptions opt;
      if (full) {
        auto [cols, rows] = output::terminal_size(STDOUT_FILENO);
        opt.width = std::max(1, cols - 1); // never the last column: no pending wrap
        opt.height = rows;
        opt.color = ctx.color();
        opt.footer = footer;
        screen->draw(output::render_dashboard(d, ctx.zone(), safe_below, opt));
      } else {
        const char* cols = std::getenv("COLUMNS");
        opt.width = cols != nullptr && std::atoi(cols) > 0 ? std::atoi(cols) : 10'000;
        opt.unicode = false;
        std::string text = first ? "" : "\n";
        for (const auto& line : output::render_dashboard(d, ctx.zone(), safe_below, opt)) {
          text += line + "\n";
        }
        output::write_all(STDOUT_FILENO, text);
      }
    }
    first = false;
    Wake w;
    while ((w = wait_until(next, keys)) == Wake::redraw && !full) {
    }
    if (w == Wake::quit) {
      return 0;
    }
  }
}

} // namespace

void
register_status(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand("status", "pool summary: workers, quota bands, usable hours\n"
                                           "Example: gpuctl status --watch --interval 10s");
  auto watch = std::make_shared<bool>(false);
  auto interval = std::make_shared<std::string>();
  sub->add_flag("--watch", *watch,
                "a live full-screen view (quota bars, sessions, jobs, hibernated), redrawn every "
                "--interval; q or Ctrl-C quits");
  sub->add_option("--interval", *interval, "--watch: time between redraws (default 5s)")
      ->check(nonempty_arg());
  r.on(sub, [=](Context& ctx) {
    if (!*watch && !interval->empty()) {
      throw_usage("--interval goes with --watch");
    }
    if (*watch) {
      Seconds every = interval->empty() ? Seconds{5} : parse_duration(*interval, "--interval");
      if (every < Seconds{1}) {
        throw_usage("--interval must be at least 1s, got '{}'", *interval);
      }
      return watch_status(ctx, every);
    }
    auto db = ctx.open(store::Access::read);
    auto s = fleet::pool_status(db, ctx.config(), ctx.now());
    if (ctx.json()) {
      ctx.print_json(output::status_json(s));
      return 0;
    }
    bool c = ctx.color();
    std::cout << fmt::format("workers   {} total, {} online, {} enabled\n", s.workers_total,
                             s.workers_online, s.workers_enabled);
    std::cout << fmt::format("accounts  {} safe, {} warning, {} critical, {} exhausted\n",
                             output::styled(std::to_string(s.bands["safe"]), output::Style::green, c),
                             output::styled(std::to_string(s.bands["warning"]), output::Style::yellow, c),
                             output::styled(std::to_string(s.bands["critical"]), output::Style::red, c),
                             output::styled(std::to_string(s.bands["exhausted"]), output::Style::red, c));
    std::cout << fmt::format("usable    {:.1f} GPU-hours left below the safe share ({:.0f}%)\n",
                             s.usable_hours_left, ctx.config().get_number("quota.safe_below") * 100);
    std::cout << fmt::format("pool      {} of its budget used in the current windows\n",
                             s.utilization ? fmt::format("{:.0f}%", *s.utilization * 100) : "-");
    if (s.accounts.empty()) {
      return 0;
    }
    output::Table t({"ACCOUNT", "PROVIDER", "WORKERS", "STATUS", "USED", "LEFT", "SHARE", "NEXT RESET",
                     "SESSIONS"});
    for (size_t i : {2, 4, 5, 6, 8}) {
      t.align_right(i);
    }
    for (const auto& q : s.accounts) {
      const quota::WindowUsage* b = nullptr;
      for (const auto& w : q.windows) {
        if (q.binding && w.window.kind == *q.binding) {
          b = &w;
        }
      }
      t.add({q.account.name, q.account.provider, std::to_string(q.account.workers), q.status,
             b ? fmt::format("{:.1f}h", b->used_h) : "-", b ? fmt::format("{:.1f}h", b->left_h) : "-",
             q.share ? fmt::format("{:.0f}%", *q.share * 100) : "-",
             q.next_reset ? when_with_relative(ctx, *q.next_reset) : "-",
             std::to_string(q.sessions.size())},
            {output::Style::plain, output::Style::plain, output::Style::plain, band_style(q.status)});
    }
    std::cout << "\n" << t.render(c);
    return 0;
  });
}

} // namespace gpuctl::app
