// SPDX-License-Identifier: MIT
// Credentials and clients per account.
#include "gpuctl/cloud/cloud.hpp"

#include "gpuctl/core/error.hpp"

#include <fmt/format.h>

namespace gpuctl::cloud {

namespace {

std::string
base_url(Env& e, const char* key)
{
  std::string url = e.cfg.get_string(key);
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

providers::vast::Client
make_vast(Env& e, const providers::Secret& secret)
{
  auto pace = std::chrono::duration_cast<net::Millis>(e.cfg.get_duration("providers.vast.pace"));
  return providers::vast::Client(e.caller, base_url(e, "providers.vast.base_url"), secret.value,
                                 pace);
}

} // namespace

providers::Secret
account_secret(store::Database& db, Env& e, const store::AccountRow& account)
{
  auto provider = parse_provider(account.provider);
  if (!account.credentials_ref) {
    std::vector<std::string> without;
    for (const auto& a : store::list_accounts(db.sql())) {
      if (a.provider == account.provider && !a.credentials_ref) {
        without.push_back(a.name);
      }
    }
    if (without.size() > 1) {
      throw_usage("{} accounts {} have no --credentials file; only one {} account may use the "
                  "standard variables and files, so give the others one with 'gpuctl account "
                  "set NAME --credentials FILE'",
                  account.provider, fmt::join(without, ", "), account.provider);
    }
  }
  auto secret = providers::load_secret(provider, account.credentials_ref, e.env);
  for (auto& w : secret.warnings) {
    e.warnings.push_back(std::move(w));
  }
  secret.warnings.clear();
  return secret;
}

providers::vast::Client
vast_client(store::Database& db, Env& e, const store::AccountRow& account)
{
  if (account.provider != "vast") {
    throw_usage("account '{}' is a {} account, not vast", account.name, account.provider);
  }
  return make_vast(e, account_secret(db, e, account));
}

providers::vast::Client
vast_client_standard(Env& e)
{
  auto secret = providers::load_secret(Provider::vast, std::nullopt, e.env);
  for (auto& w : secret.warnings) {
    e.warnings.push_back(std::move(w));
  }
  return make_vast(e, secret);
}

providers::kaggle::Client
kaggle_client(store::Database& db, Env& e, const store::AccountRow& account)
{
  if (account.provider != "kaggle") {
    throw_usage("account '{}' is a {} account, not kaggle", account.name, account.provider);
  }
  auto secret = account_secret(db, e, account);
  providers::kaggle::Auth auth;
  auth.kind = secret.kaggle_token ? providers::kaggle::Auth::Kind::token
                                  : providers::kaggle::Auth::Kind::key;
  auth.username = secret.username;
  auth.secret = secret.value;
  return providers::kaggle::Client(e.caller, base_url(e, "providers.kaggle.base_url"), auth);
}

std::optional<store::AccountRow>
pick_vast_account(store::Database& db, const std::string& name)
{
  if (!name.empty()) {
    auto a = store::require_account(db.sql(), name);
    if (a.provider != "vast") {
      throw_usage("account '{}' is a {} account, not vast", name, a.provider);
    }
    return a;
  }
  std::vector<store::AccountRow> vast;
  for (auto& a : store::list_accounts(db.sql())) {
    if (a.provider == "vast") {
      vast.push_back(std::move(a));
    }
  }
  if (vast.size() > 1) {
    throw_usage("there are {} vast accounts; name one with --account", vast.size());
  }
  if (vast.empty()) {
    return std::nullopt;
  }
  return vast.front();
}

} // namespace gpuctl::cloud
