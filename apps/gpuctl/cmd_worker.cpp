// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/hibernate/idle.hpp"
#include "gpuctl/hibernate/wake_schedule.hpp"
#include "gpuctl/store/hibernation.hpp"

#include "gpuctl/fleet/fleet.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/quota/service.hpp"

#include <iostream>
#include <unistd.h>

namespace gpuctl::app {

namespace {

output::Style
state_style(const std::string& state)
{
  if (state == "online") return output::Style::green;
  if (state == "idle" || state == "starting" || state == "stopping") return output::Style::yellow;
  if (state == "hibernated") return output::Style::cyan;
  return output::Style::dim;
}

void
render_workers(Context& ctx, const std::vector<store::WorkerRow>& workers)
{
  output::Table t({"NAME", "ACCOUNT", "PROVIDER", "GPU", "STATE", "ENABLED", "CONTROL", "UTIL",
                   "LAST SEEN"});
  for (const auto& w : workers) {
    std::string gpu = w.gpu.empty() ? "-" : w.gpu;
    if (w.gpu_count > 1) {
      gpu = fmt::format("{}x {}", w.gpu_count, gpu);
    }
    t.add({w.name, w.account, w.provider, gpu, w.state, w.enabled ? "yes" : "no", w.control,
           w.gpu_util ? fmt::format("{:.0f}%", *w.gpu_util) : "-",
           local_or_dash(ctx, w.last_seen_at)},
          {output::Style::plain, output::Style::plain, output::Style::plain, output::Style::plain,
           state_style(w.state), w.enabled ? output::Style::plain : output::Style::yellow});
  }
  if (t.empty()) {
    ctx.note("no workers yet: add one with 'gpuctl worker add NAME --account ACCOUNT'");
    return;
  }
  std::cout << t.render(ctx.color());
}

void
render_worker(Context& ctx, const store::WorkerRow& w)
{
  auto opt = [](const std::optional<std::string>& v) { return v.value_or("-"); };
  std::cout << fmt::format(
      "name          {}\naccount       {}\nprovider      {}\ngpu           {}\ngpu count     {}\n"
      "state         {}\nenabled       {}\ncontrol       {}\nhost          {}\ninstance      {}\n"
      "price         {}\ngpu util      {}\nlast seen     {}\ncreated       {}\n",
      w.name, w.account, w.provider, w.gpu.empty() ? "-" : w.gpu, w.gpu_count, w.state,
      w.enabled ? "yes" : "no", w.control, opt(w.host),
      w.provider == "vast" ? opt(w.provider_ref) : "-",
      w.price_usd_per_hour ? fmt::format("${:.3f}/h", *w.price_usd_per_hour) : "-",
      w.gpu_util ? fmt::format("{:.0f}%", *w.gpu_util) : "-", local_or_dash(ctx, w.last_seen_at),
      ctx.zone().format(w.created_at));
}

/// Open sessions with deadlines, by worker id.
std::map<std::int64_t, quota::OpenSession>
open_sessions_by_worker(Context& ctx, store::Database& db)
{
  std::map<std::int64_t, quota::OpenSession> out;
  for (auto& [id, o] : quota::open_session_deadlines(db, ctx.config(), ctx.now())) {
    if (o.session.worker_id) {
      out[*o.session.worker_id] = o;
    }
  }
  return out;
}

nlohmann::ordered_json
session_of(const std::map<std::int64_t, quota::OpenSession>& open, const store::WorkerRow& w)
{
  auto it = open.find(w.id);
  return it == open.end() ? nlohmann::ordered_json(nullptr) : output::worker_session_json(it->second);
}

} // namespace

void
register_worker(CLI::App& app, Registry& r)
{
  auto* worker = app.add_subcommand("worker", "register the GPU machines and notebooks you use\n"
                                              "Example: gpuctl worker add k1 --account alice --gpu T4");
  worker->require_subcommand(1);

  {
    auto* sub = worker->add_subcommand(
        "add", "register a worker on an account (re-adding the same one is harmless)\n"
               "Example: gpuctl worker add box1 --account lab --host me@box1:22 --gpu A100");
    auto spec = std::make_shared<fleet::WorkerSpec>();
    auto host = std::make_shared<std::string>();
    auto instance = std::make_shared<std::string>();
    auto price = std::make_shared<double>(0);
    sub->add_option("name", spec->name, "worker name")->required();
    sub->add_option("--account", spec->account, "the account it runs under")->required();
    sub->add_option("--gpu", spec->gpu, "GPU model, e.g. T4, P100, RTX_4090");
    sub->add_option("--gpu-count", spec->gpu_count, "GPUs on it (default 1)")->check(whole_arg());
    auto* o_host = sub->add_option("--host", *host, "ssh: user@host[:port]");
    auto identity = std::make_shared<std::string>();
    auto* o_ident = sub->add_option("--identity", *identity, "ssh: private key file for the host");
    auto* o_inst = sub->add_option("--instance-id", *instance, "vast: an existing instance id");
    auto* o_price = sub->add_option("--price", *price, "vast/ssh: USD per hour while running")->check(decimal_arg());
    r.on(sub, [=](Context& ctx) {
      if (o_host->count() > 0) spec->host = *host;
      if (o_ident->count() > 0) spec->identity = *identity;
      if (o_inst->count() > 0) spec->instance_id = *instance;
      if (o_price->count() > 0) spec->price_usd_per_hour = *price;
      fleet::check_worker_spec(*spec);
      auto db = ctx.open(store::Access::write_existing);
      auto outcome = fleet::add_worker(db, *spec, ctx.now());
      if (ctx.json()) {
        ctx.print_json(output::worker_json(fleet::show_worker(db, spec->name)));
      } else {
        ctx.note(outcome == fleet::Outcome::created
                     ? fmt::format("added worker {} on {}", spec->name, spec->account)
                     : fmt::format("worker {} already exists, unchanged", spec->name));
      }
      return 0;
    });
  }
  {
    auto* sub = worker->add_subcommand("list", "list workers\nExample: gpuctl worker list --json");
    auto filter = std::make_shared<store::WorkerFilter>();
    sub->add_option("--account", filter->account, "only this account's workers");
    sub->add_option("--provider", filter->provider, "only this provider's workers");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto workers = fleet::list_workers(db, *filter);
      if (ctx.json()) {
        auto open = open_sessions_by_worker(ctx, db);
        nlohmann::ordered_json reused;
        ctx.print_json_array(workers, [&](const store::WorkerRow& w) -> const nlohmann::ordered_json& {
          output::worker_json_into(reused, w, session_of(open, w));
          return reused;
        });
      } else {
        render_workers(ctx, workers);
      }
      return 0;
    });
  }
  {
    auto* sub = worker->add_subcommand("show", "show one worker\nExample: gpuctl worker show k1");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "worker name")->required();
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto w = fleet::show_worker(db, *name);
      std::optional<hibernate::Rules> rules;
      std::optional<store::HibernationRow> hib;
      std::optional<store::ScheduleRow> sched;
      if (w.provider == "vast") { // its idle rules (gpuctl hibernate config)
        hib = store::hibernation_of(db.sql(), w.id);
        rules = hibernate::effective_rules(hibernate::overrides_from_json_text(hib->config_json),
                                           ctx.config());
        sched = store::schedule_of(db.sql(), w.id);
      }
      if (ctx.json()) {
        auto j = output::worker_json(w, session_of(open_sessions_by_worker(ctx, db), w));
        if (rules) {
          nlohmann::ordered_json s = nullptr;
          if (sched) {
            s = {{"wake", sched->wake_min ? nlohmann::ordered_json(hibernate::clock_text(*sched->wake_min)) : nlohmann::ordered_json(nullptr)},
                 {"sleep", sched->sleep_min ? nlohmann::ordered_json(hibernate::clock_text(*sched->sleep_min)) : nlohmann::ordered_json(nullptr)},
                 {"tz", sched->tz},
                 {"days", hibernate::days_text(static_cast<std::uint8_t>(sched->days))}};
          }
          j["hibernation"] = {{"enabled", rules->enabled},
                              {"idle_below", rules->idle_below},
                              {"idle_for_s", rules->idle_for.count()},
                              {"grace_s", rules->grace.count()},
                              {"delete_after_s", rules->delete_after ? nlohmann::ordered_json(rules->delete_after->count()) : nlohmann::ordered_json(nullptr)},
                              {"hibernated_at", output::instant_json(hib->hibernated_at)},
                              {"woke_at", output::instant_json(hib->woke_at)},
                              {"schedule", s}};
        }
        ctx.print_json(j);
      } else {
        render_worker(ctx, w);
        if (rules) {
          std::cout << fmt::format(
              "hibernation   {}, below {:g}% for {}, grace {}, delete after {}\n",
              rules->enabled ? "on" : "off", rules->idle_below, format_duration(rules->idle_for),
              format_duration(rules->grace),
              rules->delete_after ? format_duration(*rules->delete_after) : std::string("never"));
          if (hib->hibernated_at) {
            std::cout << "hibernated    " << local_or_dash(ctx, hib->hibernated_at) << '\n';
          }
          if (sched) {
            std::cout << fmt::format(
                "schedule      wake {} sleep {} {} ({})\n",
                sched->wake_min ? hibernate::clock_text(*sched->wake_min) : "-",
                sched->sleep_min ? hibernate::clock_text(*sched->sleep_min) : "-",
                hibernate::days_text(static_cast<std::uint8_t>(sched->days)), sched->tz);
          }
        }
      }
      return 0;
    });
  }
  {
    auto* sub = worker->add_subcommand("rm", "remove a worker (its recorded sessions still count)\n"
                                             "Example: gpuctl worker rm k1");
    auto name = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    sub->add_option("name", *name, "worker name")->required();
    sub->add_flag("--force", *force, "forget its vast.ai instance (it keeps running and billing)");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      std::vector<std::string> left;
      fleet::remove_worker(db, *name, *force, ctx.now(), &left);
      for (const auto& l : left) {
        ctx.warn(fmt::format("{} is still running (and billing) and is no longer tracked", l));
      }
      if (ctx.json()) {
        ctx.print_json({{"worker", *name}, {"removed", true}, {"left_running", left}});
      } else {
        ctx.note(fmt::format("removed worker {}", *name));
      }
      return 0;
    });
  }
  {
    auto* sub = worker->add_subcommand(
        "sync", "refresh vast workers from one listing per account; report unmanaged instances\n"
                "Example: gpuctl worker sync --adopt");
    auto account = std::make_shared<std::string>();
    auto adopt = std::make_shared<bool>(false);
    sub->add_option("--account", *account, "only this vast account");
    sub->add_flag("--adopt", *adopt, "register instances gpuctl did not create as workers");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      auto rep = cloud::sync_workers(db, ctx.cloud(), *account, *adopt);
      ctx.flush_warnings();
      bool failed = false;
      for (const auto& a : rep.accounts) {
        if (a.error) { // an error line even with --quiet: cron must see why it exits 3
          failed = true;
          std::cerr << fmt::format("gpuctl: error: account {}: {}; nothing was decided for it\n",
                                   a.name, *a.error);
        }
      }
      if (ctx.json()) {
        nlohmann::ordered_json j;
        j["accounts"] = nlohmann::ordered_json::array();
        for (const auto& a : rep.accounts) {
          j["accounts"].push_back({{"account", a.name},
                                   {"instances", a.instances},
                                   {"pages", a.pages},
                                   {"error", a.error ? nlohmann::ordered_json(*a.error) : nullptr}});
        }
        j["updated"] = rep.updated;
        j["completed"] = rep.completed;
        j["unmanaged"] = nlohmann::ordered_json::array();
        for (const auto& u : rep.unmanaged) {
          j["unmanaged"].push_back({{"account", u.account},
                                    {"instance_id", u.instance_id},
                                    {"label", u.label},
                                    {"gpu", u.gpu},
                                    {"state", u.state},
                                    {"adopted_as", u.adopted_as ? nlohmann::ordered_json(*u.adopted_as)
                                                                : nullptr}});
        }
        j["vanished"] = rep.vanished;
        ctx.print_json(j);
      } else {
        for (const auto& a : rep.accounts) {
          if (!a.error) {
            ctx.note(fmt::format("{}: {} instance(s) in {} page(s)", a.name, a.instances, a.pages));
          }
        }
        for (const auto& n : rep.completed) {
          ctx.note(fmt::format("completed the interrupted rent of {}", n));
        }
        for (const auto& n : rep.vanished) {
          ctx.note(fmt::format("{}: its instance is gone; marked deleted", n));
        }
        for (const auto& u : rep.unmanaged) {
          ctx.note(u.adopted_as ? fmt::format("adopted instance {} ({}) as worker {}", u.instance_id,
                                              u.gpu, *u.adopted_as)
                                : fmt::format("instance {} ({}, {}{}) is not managed by gpuctl; "
                                              "'gpuctl worker sync --adopt' registers it",
                                              u.instance_id, u.gpu, u.state,
                                              u.label.empty() ? "" : ", label " + u.label));
        }
        ctx.note(fmt::format("{} worker(s) updated", rep.updated.size()));
      }
      return failed ? 3 : 0;
    });
  }
  for (const char* verb : {"start", "stop", "destroy"}) {
    const std::string v = verb;
    auto* sub = worker->add_subcommand(
        v, v == "start"  ? "start a vast worker's stopped instance\nExample: gpuctl worker start v1"
           : v == "stop" ? "stop a vast worker's instance (disk kept, storage still billed)\n"
                           "Example: gpuctl worker stop v1"
                         : "destroy a vast worker's instance and its disk (asks on a terminal)\n"
                           "Example: gpuctl worker destroy v1 --yes");
    auto name = std::make_shared<std::string>();
    auto yes = std::make_shared<bool>(false);
    sub->add_option("name", *name, "worker name")->required();
    if (v == "destroy") {
      sub->add_flag("-y,--yes", *yes, "do not ask (required off a terminal)");
    }
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      if (v == "destroy" && !*yes) {
        auto w = fleet::show_worker(db, *name);
        if (w.provider != "vast" || !w.provider_ref || w.state == "deleted") {
          throw_usage("worker '{}' has no vast.ai instance to destroy", *name);
        }
        if (!isatty(STDIN_FILENO)) {
          throw_usage("worker destroy deletes instance {} and its disk: pass --yes to confirm",
                      w.provider_ref.value_or("-"));
        }
        std::cerr << fmt::format("Destroy vast.ai instance {} of worker {} and its disk? [y/N] ",
                                 w.provider_ref.value_or("-"), *name);
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
          ctx.note("not destroyed");
          return 1;
        }
      }
      auto w = v == "start"  ? cloud::start_worker(db, ctx.cloud(), *name)
               : v == "stop" ? cloud::stop_worker(db, ctx.cloud(), *name)
                             : cloud::destroy_worker(db, ctx.cloud(), *name);
      ctx.flush_warnings();
      if (ctx.json()) {
        ctx.print_json(output::worker_json(w, session_of(open_sessions_by_worker(ctx, db), w)));
      } else {
        ctx.note(fmt::format("{} {} (instance {})",
                             v == "start" ? "started" : v == "stop" ? "stopped" : "destroyed", *name,
                             w.provider_ref.value_or("-")));
      }
      return 0;
    });
  }
  for (bool enable : {true, false}) {
    auto* sub = worker->add_subcommand(
        enable ? "enable" : "disable",
        enable ? "let a worker take sessions and jobs again\nExample: gpuctl worker enable k1"
               : "keep a worker out of plans and dispatch\nExample: gpuctl worker disable k1");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "worker name")->required();
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      auto outcome = fleet::set_worker_enabled(db, *name, enable, ctx.now());
      if (ctx.json()) {
        ctx.print_json(output::worker_json(fleet::show_worker(db, *name)));
      } else {
        ctx.note(fmt::format("worker {} {}{}", *name, enable ? "enabled" : "disabled",
                             outcome == fleet::Outcome::unchanged ? " (already)" : ""));
      }
      return 0;
    });
  }
}

} // namespace gpuctl::app
