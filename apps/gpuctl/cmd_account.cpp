// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/fleet/fleet.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"

#include <iostream>

namespace gpuctl::app {

namespace {

/// The policy flags shared by `account add` and `account set` (DESIGN §4).
struct PolicyFlags {
  double weekly = 0, daily = 0, max_usd = 0;
  std::string session_max, margin;
  int concurrent = 0;
  CLI::Option *o_weekly = nullptr, *o_daily = nullptr, *o_max_usd = nullptr,
              *o_session_max = nullptr, *o_margin = nullptr, *o_concurrent = nullptr;

  void add_to(CLI::App* sub)
  {
    o_weekly = sub->add_option("--weekly-hours", weekly, "GPU hours per week (0 = no weekly window)")->check(decimal_arg());
    o_daily = sub->add_option("--daily-hours", daily, "GPU hours per day (0 = no daily window)")->check(decimal_arg());
    o_session_max = sub->add_option("--session-max", session_max, "cap on one session, e.g. 12h");
    o_margin = sub->add_option("--shutdown-margin", margin,
                               "stop this long before the cap or budget, e.g. 30m");
    o_concurrent = sub->add_option("--concurrent", concurrent, "GPU sessions at once")->check(whole_arg());
    o_max_usd = sub->add_option("--max-usd-per-day", max_usd, "vast: USD per day (0 = no limit)")->check(decimal_arg());
  }

  quota::PolicyOverrides overrides() const
  {
    quota::PolicyOverrides o;
    if (o_weekly->count() > 0) o.weekly_gpu_hours = weekly;
    if (o_daily->count() > 0) o.daily_gpu_hours = daily;
    if (o_session_max->count() > 0) o.session_max = parse_duration(session_max, "--session-max");
    if (o_margin->count() > 0) o.shutdown_margin = parse_duration(margin, "--shutdown-margin");
    if (o_concurrent->count() > 0) o.concurrent = concurrent;
    if (o_max_usd->count() > 0) o.max_usd_per_day = max_usd;
    return o;
  }
};

std::string
hours_text(double h)
{
  return h > 0 ? fmt::format("{:g}h", h) : "-";
}

void
render_accounts(Context& ctx, const std::vector<fleet::AccountView>& accounts)
{
  output::Table t({"NAME", "PROVIDER", "WORKERS", "WEEKLY", "DAILY", "SESSION MAX", "MARGIN",
                   "AT ONCE", "USD/DAY", "CREDENTIALS"});
  t.align_right(2);
  for (const auto& a : accounts) {
    const auto& p = a.policy;
    t.add({a.row.name, a.row.provider, std::to_string(a.row.workers), hours_text(p.weekly_gpu_hours),
           hours_text(p.daily_gpu_hours), p.session_max ? format_duration(*p.session_max) : "-",
           p.shutdown_margin.count() ? format_duration(p.shutdown_margin) : "-",
           p.concurrent ? std::to_string(*p.concurrent) : "-",
           p.max_usd_per_day > 0 ? fmt::format("{:g}", p.max_usd_per_day) : "-",
           a.credentials.value_or("-")});
  }
  if (t.empty()) {
    ctx.note("no accounts yet: add one with 'gpuctl account add NAME --provider kaggle'");
    return;
  }
  std::cout << t.render(ctx.color());
}

} // namespace

void
register_account(CLI::App& app, Registry& r)
{
  auto* account = app.add_subcommand("account", "register provider accounts and their quotas\n"
                                                "Example: gpuctl account add alice --provider kaggle");
  account->require_subcommand(1);

  // account add
  {
    auto* sub = account->add_subcommand(
        "add", "register an account (re-adding the same one is harmless)\n"
               "Example: gpuctl account add alice --provider kaggle --credentials ~/alice.json");
    auto spec = std::make_shared<fleet::AccountSpec>();
    auto provider = std::make_shared<std::string>();
    auto cred = std::make_shared<std::string>();
    auto flags = std::make_shared<PolicyFlags>();
    sub->add_option("name", spec->name, "account name")->required();
    sub->add_option("--provider", *provider, "kaggle | colab | vast | ssh")->required();
    auto* o_cred = sub->add_option("--credentials", *cred,
                                   "kaggle: API token file or kaggle.json; vast: API key file");
    flags->add_to(sub);
    r.on(sub, [=](Context& ctx) {
      spec->provider = parse_provider(*provider);
      if (o_cred->count() > 0) {
        spec->credentials_file = *cred;
      }
      spec->overrides = flags->overrides();
      fleet::check_account_spec(*spec, ctx.config());
      auto db = ctx.open(store::Access::write);
      auto outcome = fleet::add_account(db, *spec, ctx.config(), ctx.now());
      if (ctx.json()) {
        ctx.print_json(output::account_json(fleet::show_account(db, spec->name, ctx.config(), ctx.env())));
      } else {
        ctx.note(outcome == fleet::Outcome::created
                     ? fmt::format("added account {} ({})", spec->name, *provider)
                     : fmt::format("account {} already exists, unchanged", spec->name));
      }
      return 0;
    });
  }
  // account set
  {
    auto* sub = account->add_subcommand(
        "set", "change an account's policy overrides or credentials file\n"
               "Example: gpuctl account set alice --weekly-hours 20 --reset session_max");
    auto name = std::make_shared<std::string>();
    auto cred = std::make_shared<std::string>();
    auto reset = std::make_shared<std::vector<std::string>>();
    auto flags = std::make_shared<PolicyFlags>();
    sub->add_option("name", *name, "account name")->required();
    auto* o_cred = sub->add_option("--credentials", *cred, "credentials file");
    sub->add_option("--reset", *reset,
                    "drop an override back to the provider default (weekly_gpu_hours, "
                    "daily_gpu_hours, session_max, shutdown_margin, concurrent, max_usd_per_day, "
                    "credentials, all)");
    flags->add_to(sub);
    r.on(sub, [=](Context& ctx) {
      std::optional<std::string> c;
      if (o_cred->count() > 0) {
        c = *cred;
      }
      auto overrides = flags->overrides();
      auto db = ctx.open(store::Access::write_existing);
      auto outcome = fleet::set_account(db, *name, c, overrides, *reset, ctx.config(), ctx.now());
      if (ctx.json()) {
        ctx.print_json(output::account_json(fleet::show_account(db, *name, ctx.config(), ctx.env())));
      } else {
        ctx.note(outcome == fleet::Outcome::updated ? fmt::format("updated account {}", *name)
                                                    : fmt::format("account {} unchanged", *name));
      }
      return 0;
    });
  }
  // account list
  {
    auto* sub = account->add_subcommand("list", "list accounts with their effective policies\n"
                                                "Example: gpuctl account list --json");
    r.on(sub, [](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto accounts = fleet::list_accounts(db, ctx.config(), ctx.env());
      if (ctx.json()) {
        ctx.print_json_array(accounts, [](const fleet::AccountView& a) { return output::account_json(a); });
      } else {
        render_accounts(ctx, accounts);
      }
      return 0;
    });
  }
  // account show
  {
    auto* sub = account->add_subcommand("show", "show one account\nExample: gpuctl account show alice");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "account name")->required();
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto a = fleet::show_account(db, *name, ctx.config(), ctx.env());
      if (ctx.json()) {
        ctx.print_json(output::account_json(a));
        return 0;
      }
      const auto& p = a.policy;
      auto src = [&](bool overridden) { return overridden ? "  (account)" : ""; };
      std::cout << fmt::format(
          "name             {}\nprovider         {}\nworkers          {}\ncredentials      {}\n"
          "weekly budget    {}{}\ndaily budget     {}{}\nsession max      {}{}\n"
          "shutdown margin  {}{}\nat once          {}{}\nusd per day      {}{}\ncreated          {}\n",
          a.row.name, a.row.provider, a.row.workers, a.credentials.value_or("none found"),
          hours_text(p.weekly_gpu_hours), src(a.overrides.weekly_gpu_hours.has_value()),
          hours_text(p.daily_gpu_hours), src(a.overrides.daily_gpu_hours.has_value()),
          p.session_max ? format_duration(*p.session_max) : "none",
          src(a.overrides.session_max.has_value()), format_duration(p.shutdown_margin),
          src(a.overrides.shutdown_margin.has_value()),
          p.concurrent ? std::to_string(*p.concurrent) : "unlimited",
          src(a.overrides.concurrent.has_value()),
          p.max_usd_per_day > 0 ? fmt::format("{:g}", p.max_usd_per_day) : "no limit",
          src(a.overrides.max_usd_per_day.has_value()), ctx.zone().format(a.row.created_at));
      return 0;
    });
  }
  // account check
  {
    auto* sub = account->add_subcommand(
        "check", "verify credentials with the provider (one authenticated call per account)\n"
                 "Example: gpuctl account check alice");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "account name (default: every kaggle and vast account)");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto results = cloud::check_accounts(db, ctx.cloud(), *name);
      ctx.flush_warnings();
      bool all_ok = true;
      for (const auto& c : results) {
        all_ok = all_ok && c.ok;
      }
      if (ctx.json()) {
        ctx.print_json_array(results, [](const cloud::CheckResult& c) {
          return nlohmann::ordered_json{{"account", c.account},
                                        {"provider", c.provider},
                                        {"ok", c.ok},
                                        {"credentials", c.credentials},
                                        {"detail", c.detail}};
        });
      } else if (results.empty()) {
        ctx.note("no kaggle or vast accounts to check");
      } else {
        output::Table t({"ACCOUNT", "PROVIDER", "CHECK", "DETAIL"});
        for (const auto& c : results) {
          t.add({c.account, c.provider, c.ok ? "ok" : "FAILED", c.detail},
                {output::Style::plain, output::Style::plain,
                 c.ok ? output::Style::green : output::Style::red});
        }
        std::cout << t.render(ctx.color());
      }
      return all_ok ? 0 : 3;
    });
  }
  // account rm
  {
    auto* sub = account->add_subcommand(
        "rm", "remove an account (refused while it has workers, unless --force)\n"
              "Example: gpuctl account rm alice --force");
    auto name = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    sub->add_option("name", *name, "account name")->required();
    sub->add_flag("--force", *force,
                  "also remove its workers, and forget its vast.ai instances (they keep running)");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      std::vector<std::string> left;
      int removed = fleet::remove_account(db, *name, *force, ctx.now(), &left);
      for (const auto& l : left) {
        ctx.warn(fmt::format("{} is still running at the provider and is no longer tracked", l));
      }
      if (ctx.json()) {
        ctx.print_json({{"account", *name},
                        {"removed", true},
                        {"workers_removed", removed},
                        {"left_running", left}});
      } else {
        ctx.note(removed > 0 ? fmt::format("removed account {} and {} worker(s)", *name, removed)
                             : fmt::format("removed account {}", *name));
      }
      return 0;
    });
  }
}

} // namespace gpuctl::app
