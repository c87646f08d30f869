// SPDX-License-Identifier: MIT
// Credential checks and Kaggle quota reconciliation.
#include "gpuctl/cloud/cloud.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/provider_state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace gpuctl::cloud {

using nlohmann::json;

std::vector<CheckResult>
check_accounts(store::Database& db, Env& e, const std::string& name)
{
  std::vector<store::AccountRow> accounts;
  if (!name.empty()) {
    auto a = store::require_account(db.sql(), name);
    if (a.provider != "kaggle" && a.provider != "vast") {
      throw_usage("account '{}' is a {} account: it has no API credentials to check", name,
                  a.provider);
    }
    accounts.push_back(a);
  } else {
    for (auto& a : store::list_accounts(db.sql())) {
      if (a.provider == "kaggle" || a.provider == "vast") {
        accounts.push_back(std::move(a));
      }
    }
  }
  std::vector<CheckResult> out;
  for (const auto& a : accounts) {
    CheckResult r;
    r.account = a.name;
    r.provider = a.provider;
    r.credentials = providers::credentials_source(parse_provider(a.provider), a.credentials_ref, e.env)
                        .value_or("none");
    try {
      if (a.provider == "vast") {
        auto c = vast_client(db, e, a);
        auto listing = c.list_instances();
        r.detail = fmt::format("key accepted; {} instance(s)", listing.instances.size());
      } else {
        auto c = kaggle_client(db, e, a);
        std::string who = c.auth().username;
        if (c.auth().kind == providers::kaggle::Auth::Kind::token) {
          auto [active, user] = c.introspect();
          if (!active) {
            throw Error(ErrorKind::provider,
                        "Kaggle IntrospectToken: the API token is not active (expired or revoked)");
          }
          who = user;
        }
        auto q = c.quota();
        r.detail = fmt::format("authenticated as {}", who.empty() ? "(unknown user)" : who);
        if (q.gpu) {
          r.detail += fmt::format("; GPU {:.1f} of {:.1f} h used this week", q.gpu->used_s / 3600,
                                  q.gpu->total_s / 3600);
        }
      }
      r.ok = true;
    } catch (const Error& err) {
      if (err.kind() == ErrorKind::interrupted) {
        throw;
      }
      r.detail = err.what();
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<QuotaSync>
sync_quota(store::Database& db, Env& e, const std::string& name)
{
  std::vector<store::AccountRow> accounts;
  if (!name.empty()) {
    auto a = store::require_account(db.sql(), name);
    if (a.provider != "kaggle") {
      throw_usage("quota --sync reads Kaggle's own figures; account '{}' is a {} account", name,
                  a.provider);
    }
    accounts.push_back(a);
  } else {
    for (auto& a : store::list_accounts(db.sql())) {
      if (a.provider == "kaggle") {
        accounts.push_back(std::move(a));
      }
    }
  }
  std::vector<QuotaSync> out;
  for (const auto& a : accounts) {
    auto c = kaggle_client(db, e, a);
    auto q = c.quota(); // network first, outside any transaction
    if (!q.gpu) {
      throw Error(ErrorKind::provider,
                  fmt::format("Kaggle GetAcceleratorQuotaStatistics: no GPU quota reported for "
                              "account '{}'",
                              a.name));
    }
    Instant now = e.clock.now();
    QuotaSync s;
    s.account = a.name;
    s.provider_used_h = (q.gpu->used_s + q.gpu->reserved_s) / 3600.0;
    s.provider_total_h = q.gpu->total_s / 3600.0;
    s.refresh = q.refresh;
    db.write([&] {
      auto quotas = quota::compute_quotas(db, e.cfg, now, a.name);
      const quota::WindowUsage* weekly = nullptr;
      for (const auto& w : quotas.front().windows) {
        if (w.window.kind == "weekly") {
          weekly = &w;
        }
      }
      if (weekly == nullptr) {
        throw_usage("account '{}' has no weekly window (weekly_gpu_hours = 0); nothing to "
                    "reconcile",
                    a.name);
      }
      s.ledger_used_h = weekly->used_h;
      // Whole seconds; +0.0 rather than -0.0 when the figures already agree.
      s.adjustment_h = std::round((s.provider_used_h - s.ledger_used_h) * 3600.0) / 3600.0 + 0.0;
      if (std::abs(s.adjustment_h) < 0.5 / 3600.0) {
        s.adjustment_h = 0;
      }
      if (s.adjustment_h != 0) {
        store::insert_adjustment(db.sql(), a.id, now, "weekly", s.adjustment_h, "quota --sync");
      }
      json detail = {{"account", a.name},
                     {"ledger_used_h", s.ledger_used_h},
                     {"provider_used_h", s.provider_used_h},
                     {"adjustment_h", s.adjustment_h},
                     {"provider_total_h", s.provider_total_h},
                     {"budget_h", weekly->window.budget_h},
                     {"refresh", q.refresh ? json(format_rfc3339(*q.refresh)) : json(nullptr)}};
      store::insert_event(db.sql(), now, "quota-sync", std::nullopt,
                          fmt::format("Kaggle reports {:.2f} h used, the ledger had {:.2f} h",
                                      s.provider_used_h, s.ledger_used_h),
                          detail.dump());
    });
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace gpuctl::cloud
