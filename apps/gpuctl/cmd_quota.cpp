// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/time.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/quota/service.hpp"

#include <iostream>

namespace gpuctl::app {

output::Style
band_style(const std::string& status)
{
  if (status == "safe") return output::Style::green;
  if (status == "warning") return output::Style::yellow;
  return output::Style::red;
}

std::string
hours_cell(double h)
{
  return fmt::format("{:.1f}h", h);
}

/// "Sat 2026-12-05 00:00 (in 4d 16h)" in the display zone.
std::string
when_with_relative(Context& ctx, Instant t)
{
  auto rel = t - ctx.now();
  std::string r = rel.count() >= 0 ? "in " + human_duration(rel) : human_duration(-rel) + " ago";
  return fmt::format("{} ({})", ctx.zone().format(t), r);
}

namespace {

void
render_quota(Context& ctx, const std::vector<quota::AccountQuota>& quotas)
{
  output::Table t({"ACCOUNT", "PROVIDER", "STATUS", "WINDOW", "USED", "BUDGET", "LEFT", "SHARE",
                   "RESETS"});
  for (size_t c : {4, 5, 6, 7}) {
    t.align_right(c);
  }
  bool any_estimate = false;
  std::vector<const quota::OpenSession*> open;
  for (const auto& q : quotas) {
    any_estimate = any_estimate || q.estimated;
    auto style = band_style(q.status);
    if (q.windows.empty()) {
      std::string what = "no budget";
      if (q.spend && q.spend->max_usd_per_day > 0) {
        what = fmt::format("${:.2f} of ${:.2f} today", q.spend->usd, q.spend->max_usd_per_day);
      } else if (q.spend) {
        what = fmt::format("${:.2f} today", q.spend->usd);
      }
      t.add({q.account.name, q.account.provider, q.status, what, "-", "-", "-", "-", "-"},
            {output::Style::plain, output::Style::plain, style});
    }
    bool first = true;
    for (const auto& w : q.windows) {
      bool binding = q.binding && *q.binding == w.window.kind;
      t.add({first ? q.account.name : "", first ? q.account.provider : "", first ? q.status : "",
             w.window.kind + (binding && q.windows.size() > 1 ? "*" : ""), hours_cell(w.used_h),
             hours_cell(w.window.budget_h), hours_cell(w.left_h), fmt::format("{:.0f}%", w.share * 100),
             when_with_relative(ctx, w.window.end)},
            {output::Style::plain, output::Style::plain, style});
      first = false;
    }
    for (const auto& s : q.sessions) {
      open.push_back(&s);
    }
  }
  if (t.empty()) {
    ctx.note("no accounts yet: add one with 'gpuctl account add NAME --provider kaggle'");
    return;
  }
  std::cout << t.render(ctx.color());
  if (!open.empty()) {
    output::Table s({"SESSION", "WORKER", "ACCOUNT", "STARTED", "DEADLINE", "LEFT", "WARNING"});
    s.align_right(0);
    for (const auto* o : open) {
      s.add({std::to_string(o->session.id), o->session.worker, o->session.account,
             ctx.zone().format(o->session.started_at),
             o->deadline ? ctx.zone().format(*o->deadline) : "-",
             o->left ? human_duration(*o->left) : "-", o->warning.value_or("")},
            {output::Style::plain, output::Style::plain, output::Style::plain, output::Style::plain,
             output::Style::plain, output::Style::plain,
             o->warning == "past" ? output::Style::red : output::Style::yellow});
    }
    std::cout << "\n" << s.render(ctx.color());
  }
  if (any_estimate && !ctx.globals().quiet) {
    std::cout << "\nColab budgets are estimates (Google publishes none): adjust [providers.colab] "
                 "or the account's --daily-hours.\n";
  }
}

int
render_warnings(Context& ctx, const std::vector<quota::AccountQuota>& quotas)
{
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  bool past = false;
  output::Table t({"WARNING", "SESSION", "WORKER", "ACCOUNT", "DEADLINE", "LEFT"});
  for (const auto& q : quotas) {
    for (const auto& s : q.sessions) {
      if (!s.warning) {
        continue;
      }
      past = past || *s.warning == "past";
      arr.push_back({{"id", s.session.id},
                     {"worker", s.session.worker},
                     {"account", s.session.account},
                     {"started", output::instant_json(s.session.started_at)},
                     {"deadline", output::instant_json(s.deadline)},
                     {"left_s", s.left ? nlohmann::ordered_json(s.left->count()) : nlohmann::ordered_json(nullptr)},
                     {"warning", *s.warning}});
      t.add({*s.warning == "past" ? "PAST DEADLINE" : "within " + *s.warning,
             std::to_string(s.session.id), s.session.worker, s.session.account,
             when_with_relative(ctx, *s.deadline), human_duration(*s.left)},
            {*s.warning == "past" ? output::Style::red : output::Style::yellow});
    }
  }
  if (ctx.json()) {
    ctx.print_json(arr);
  } else if (!t.empty()) {
    std::cout << t.render(ctx.color());
  }
  return past ? 1 : 0;
}

} // namespace

void
register_quota(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "quota", "GPU hours used and left in each account's current windows, and session deadlines\n"
               "Example: gpuctl quota alice --json ; gpuctl quota --warnings (cron: exit 1 = past)");
  auto account = std::make_shared<std::string>();
  auto warnings = std::make_shared<bool>(false);
  sub->add_option("account", *account, "only this account");
  sub->add_flag("--warnings", *warnings,
                "only sessions within 1 h / 30 min of their deadline or past it (exit 1 when past)");
  auto sync = std::make_shared<bool>(false);
  sub->add_flag("--sync", *sync,
                "first read Kaggle's own used hours and reconcile the ledger with an adjustment");
  r.on(sub, [=](Context& ctx) {
    if (*sync) {
      auto db = ctx.open(store::Access::write_existing);
      for (const auto& s : cloud::sync_quota(db, ctx.cloud(), *account)) {
        ctx.note(fmt::format("{}: Kaggle reports {:.2f} h used of {:.2f} h (resets {}); the ledger "
                             "had {:.2f} h, adjusted by {:+.2f} h",
                             s.account, s.provider_used_h, s.provider_total_h,
                             s.refresh ? ctx.zone().format(*s.refresh) : std::string("-"),
                             s.ledger_used_h, s.adjustment_h));
      }
      ctx.flush_warnings();
    }
    auto db = ctx.open(store::Access::read);
    auto quotas = quota::compute_quotas(db, ctx.config(), ctx.now(), *account);
    if (*warnings) {
      return render_warnings(ctx, quotas);
    }
    if (ctx.json()) {
      if (!account->empty()) {
        ctx.print_json(output::quota_json(quotas.at(0)));
      } else {
        ctx.print_json_array(quotas, [](const quota::AccountQuota& q) { return output::quota_json(q); });
      }
      return 0;
    }
    render_quota(ctx, quotas);
    return 0;
  });
}

} // namespace gpuctl::app
