// SPDX-License-Identifier: MIT
// gpuctl offers search | rent (vast.ai).
#include "app.hpp"

#include "gpuctl/hibernate/idle.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/quota/service.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace gpuctl::app {

namespace {

nlohmann::ordered_json
opt(const std::optional<double>& v)
{
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

/// DESIGN §10 offer.
nlohmann::ordered_json
offer_json(const providers::vast::Offer& o)
{
  return {{"id", o.id},
          {"gpu", o.gpu},
          {"num_gpus", o.num_gpus},
          {"gpu_ram_gb", opt(o.gpu_ram_gb)},
          {"price_usd_per_hour", opt(o.price_usd_per_hour)},
          {"reliability", opt(o.reliability)},
          {"region", o.region},
          {"disk_gb", opt(o.disk_gb)},
          {"inet_down_mbps", opt(o.inet_down_mbps)},
          {"cuda", opt(o.cuda)}};
}

std::string
num_or_dash(const std::optional<double>& v, const char* fmt_spec)
{
  return v ? fmt::format(fmt::runtime(fmt_spec), *v) : "-";
}

} // namespace

void
register_offers(CLI::App& app, Registry& r)
{
  auto* offers = app.add_subcommand("offers", "search and rent vast.ai GPU offers\n"
                                              "Example: gpuctl offers search --gpu RTX_4090 --max-price 0.5");
  offers->require_subcommand(1);
  {
    auto* sub = offers->add_subcommand(
        "search", "search vast.ai offers (verified, rentable, on-demand)\n"
                  "Example: gpuctl offers search --gpu RTX_4090 --region US,CA --order price --limit 5");
    auto q = std::make_shared<providers::vast::OfferQuery>();
    auto gpu = std::make_shared<std::string>();
    auto num = std::make_shared<int>(0);
    auto max_price = std::make_shared<double>(0);
    auto rel = std::make_shared<double>(0);
    auto regions = std::make_shared<std::vector<std::string>>();
    auto account = std::make_shared<std::string>();
    auto* o_gpu = sub->add_option("--gpu", *gpu, "GPU model, e.g. RTX_4090 (underscores = spaces)");
    auto* o_num = sub->add_option("--num-gpus", *num, "GPUs per offer")->check(whole_arg());
    auto* o_max = sub->add_option("--max-price", *max_price, "USD per hour, at most")->check(decimal_arg());
    // One value per occurrence (repeat or comma-separate), so a positional after it is not eaten.
    sub->add_option("--region", *regions, "two-letter country codes (US,CA)")
        ->delimiter(',')
        ->allow_extra_args(false);
    auto* o_rel = sub->add_option("--min-reliability", *rel, "0 to 1")->check(decimal_arg());
    sub->add_option("--order", q->order,
                    "sort keys: price, reliability, score, gpu_ram, inet_down, num_gpus, dlperf, "
                    "cuda; '-' in front = descending (default price)");
    sub->add_option("--limit", q->limit, "at most this many offers (default 20)")->check(whole_arg());
    sub->add_option("--disk", q->disk_gb, "disk GB to price in (default 16)")->check(decimal_arg());
    sub->add_option("--account", *account, "the vast account whose key to use");
    r.on(sub, [=](Context& ctx) {
      if (o_gpu->count() > 0) q->gpu = *gpu;
      if (o_num->count() > 0) q->num_gpus = *num;
      if (o_max->count() > 0) q->max_price = *max_price;
      if (o_rel->count() > 0) {
        if (*rel > 1) {
          throw_usage("--min-reliability must be between 0 and 1, not {}", *rel);
        }
        q->min_reliability = *rel;
      }
      for (const auto& reg : *regions) {
        if (reg.size() != 2 || !std::isalpha(static_cast<unsigned char>(reg[0])) ||
            !std::isalpha(static_cast<unsigned char>(reg[1]))) {
          throw_usage("--region takes two-letter country codes (US,CA), not '{}'", reg);
        }
        q->regions.push_back({static_cast<char>(std::toupper(static_cast<unsigned char>(reg[0]))),
                              static_cast<char>(std::toupper(static_cast<unsigned char>(reg[1])))});
      }
      if (q->limit < 1 || q->limit > 1000) {
        throw_usage("--limit must be between 1 and 1000, not {}", q->limit);
      }
      auto db = ctx.open(store::Access::read);
      auto found = cloud::search_offers(db, ctx.cloud(), *account, *q);
      ctx.flush_warnings();
      if (ctx.json()) {
        ctx.print_json_array(found, offer_json);
        return 0;
      }
      if (found.empty()) {
        ctx.note("no offers match");
        return 0;
      }
      output::Table t({"ID", "GPU", "N", "VRAM", "$/H", "RELIAB", "REGION", "DISK", "NET↓", "CUDA"});
      for (const auto& o : found) {
        t.add({std::to_string(o.id), o.gpu, std::to_string(o.num_gpus),
               num_or_dash(o.gpu_ram_gb, "{:.0f} GB"), num_or_dash(o.price_usd_per_hour, "{:.3f}"),
               num_or_dash(o.reliability, "{:.3f}"), o.region.empty() ? "-" : o.region,
               num_or_dash(o.disk_gb, "{:.0f} GB"), num_or_dash(o.inet_down_mbps, "{:.0f}"),
               num_or_dash(o.cuda, "{:.1f}")});
      }
      std::cout << t.render(ctx.color());
      return 0;
    });
  }
  {
    auto* sub = offers->add_subcommand(
        "rent", "rent an offer as a new vast worker and open its session (exactly once: a rerun\n"
                "after a crash finds the instance instead of renting another)\n"
                "Example: gpuctl offers rent 12345678 --name v1 --account lab --image pytorch/pytorch");
    auto req = std::make_shared<cloud::RentRequest>();
    auto onstart = std::make_shared<std::string>();
    auto envs = std::make_shared<std::vector<std::string>>();
    auto max_price = std::make_shared<double>(0);
    auto wait = std::make_shared<bool>(false);
    sub->add_option("offer_id", req->offer_id, "the offer id from 'offers search'")->required()->check(id_arg());
    sub->add_option("--name", req->worker, "the new worker's name")->required();
    sub->add_option("--account", req->account, "the vast account to rent with")->required();
    sub->add_option("--image", req->image, "docker image, e.g. pytorch/pytorch:latest")->required()->check(nonempty_arg());
    sub->add_option("--disk", req->disk_gb, "disk GB (default 16)")->check(decimal_arg());
    auto* o_onstart = sub->add_option("--onstart", *onstart, "a script run when the instance starts");
    sub->add_option("--env", *envs, "KEY=VALUE for the container (repeatable)")
        ->allow_extra_args(false);
    auto* o_max = sub->add_option("--max-price", *max_price, "refuse if the offer costs more USD/h")->check(decimal_arg());
    sub->add_flag("--wait", *wait, "wait until the instance runs (up to providers.vast.start_timeout)");
    auto watchdog = std::make_shared<bool>(false);
    sub->add_flag("--watchdog", *watchdog,
                  "add the idle watchdog to the onstart: the instance stops itself when idle "
                  "([hibernate] rules), even with your laptop off");
    r.on(sub, [=](Context& ctx) {
      if (o_onstart->count() > 0) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*onstart, ec)) {
          throw_usage("--onstart: {} is not a readable file", *onstart);
        }
        std::ifstream in(*onstart);
        std::stringstream buf;
        buf << in.rdbuf();
        if (!in) {
          throw_usage("--onstart: cannot read {}", *onstart);
        }
        req->onstart = buf.str();
      }
      for (const auto& kv : *envs) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          throw_usage("--env takes KEY=VALUE, not '{}'", kv);
        }
        req->env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      if (o_max->count() > 0) req->max_price = *max_price;
      if (*watchdog) {
        // The instance-scoped key (CONTAINER_API_KEY) stops it; the user's key never goes there.
        auto p = hibernate::watchdog_params(hibernate::effective_rules({}, ctx.config()),
                                            ctx.config());
        if (!req->onstart.empty() && req->onstart.back() != '\n') {
          req->onstart += '\n';
        }
        req->onstart += hibernate::watchdog_onstart(p);
      }
      if (req->disk_gb < 8) {
        throw_usage("--disk must be at least 8 GB (vast.ai's minimum), not {}", req->disk_gb);
      }
      validate_name(req->worker, "worker");
      auto db = ctx.open(store::Access::write_existing);
      auto res = cloud::rent(db, ctx.cloud(), *req);
      ctx.flush_warnings();
      auto w = res.worker;
      if (*wait && w.state != "online") {
        // Say what was rented before waiting: an interrupted wait must not hide a billing instance.
        ctx.note(fmt::format("rented offer {} as worker {}: instance {} at ${:.3f}/h; waiting for it "
                             "to run",
                             req->offer_id, w.name, res.instance_id, res.price_usd_per_hour));
        w = cloud::wait_until_online(db, ctx.cloud(), req->worker);
      }
      if (ctx.json()) {
        nlohmann::ordered_json session = nullptr;
        for (auto& [id, open] : quota::open_session_deadlines(db, ctx.config(), ctx.now())) {
          if (open.session.worker_id == w.id) {
            session = output::worker_session_json(open);
          }
        }
        ctx.print_json(output::worker_json(w, session));
      } else if (res.unchanged) {
        ctx.note(fmt::format("worker {} already rents instance {}; nothing done", w.name,
                             res.instance_id));
      } else {
        ctx.note(fmt::format("{} offer {} as worker {}: instance {} at ${:.3f}/h{}",
                             res.resumed ? "completed the interrupted rent of" : "rented",
                             req->offer_id, w.name, res.instance_id, res.price_usd_per_hour,
                             w.state == "online" ? ", running" : ", starting"));
      }
      return 0;
    });
  }
}

} // namespace gpuctl::app
