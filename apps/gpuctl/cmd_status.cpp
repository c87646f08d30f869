// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/fleet/status.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"

#include <iostream>

namespace gpuctl::app {

output::Style band_style(const std::string& status);
std::string when_with_relative(Context& ctx, Instant t);

void
register_status(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand("status", "pool summary: workers, quota bands, usable hours\n"
                                           "Example: gpuctl status --json");
  r.on(sub, [](Context& ctx) {
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
