// SPDX-License-Identifier: MIT
#include "gpuctl/providers/credentials.hpp"

#include "gpuctl/core/error.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace gpuctl::providers {

namespace {

bool
file_exists(const std::string& path)
{
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string
env_or(const EnvLookup& env, const char* name, const std::string& fallback = {})
{
  const char* v = env ? env(name) : nullptr;
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string
trimmed(std::string s)
{
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) {
    ++b;
  }
  return s.substr(b);
}

/// Reads a credentials file; warns when group or others may read it.
std::string
read_secret_file(const std::string& path, std::vector<std::string>& warnings)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw_usage("credentials file {} does not exist", path);
  }
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    warnings.push_back(fmt::format("credentials file {} is readable by other users; run "
                                   "'chmod 600 {}'",
                                   path, path));
  }
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in) {
    throw_usage("cannot read credentials file {}", path);
  }
  return buf.str();
}

/// A kaggle.json ({"username","key"}) or a bare token.
void
read_kaggle_file(const std::string& path, Secret& s)
{
  std::string text = read_secret_file(path, s.warnings);
  s.origin = path;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    if (!j.contains("username") || !j.contains("key") || !j["username"].is_string() ||
        !j["key"].is_string() || j["key"].get<std::string>().empty()) {
      throw_usage("credentials file {} is JSON but lacks \"username\" and \"key\"", path);
    }
    s.username = j["username"].get<std::string>();
    s.value = j["key"].get<std::string>();
    s.kaggle_token = false;
    return;
  }
  s.value = trimmed(text);
  if (s.value.empty() || s.value.find_first_of(" \t\n{") != std::string::npos) {
    throw_usage("credentials file {} holds neither a kaggle.json nor an API token", path);
  }
  s.kaggle_token = true;
}

} // namespace

Secret
load_secret(Provider provider, const std::optional<std::string>& account_file, const EnvLookup& env)
{
  Secret s;
  std::string home = env_or(env, "HOME");
  if (provider == Provider::vast) {
    if (account_file) {
      s.value = trimmed(read_secret_file(*account_file, s.warnings));
      s.origin = *account_file;
    } else if (std::string k = env_or(env, "VAST_API_KEY"); !k.empty()) {
      s.value = trimmed(k);
      s.origin = "VAST_API_KEY";
    } else {
      std::string cfg = env_or(env, "XDG_CONFIG_HOME", home.empty() ? "" : home + "/.config");
      for (const std::string& f : {cfg + "/vastai/vast_api_key", home + "/.vast_api_key"}) {
        if (!cfg.empty() && !home.empty() && file_exists(f)) {
          s.value = trimmed(read_secret_file(f, s.warnings));
          s.origin = f;
          break;
        }
      }
    }
    if (s.value.empty()) {
      throw_usage("no vast.ai API key: set VAST_API_KEY, or give the account a key file with "
                  "'gpuctl account set NAME --credentials FILE'");
    }
    return s;
  }
  if (provider != Provider::kaggle) {
    throw_usage("{} accounts have no API credentials", to_string(provider));
  }
  if (account_file) {
    read_kaggle_file(*account_file, s);
    return s;
  }
  if (std::string t = env_or(env, "KAGGLE_API_TOKEN"); !t.empty()) {
    if (file_exists(t)) {
      read_kaggle_file(t, s);
    } else {
      s.value = trimmed(t);
      s.kaggle_token = true;
      s.origin = "KAGGLE_API_TOKEN";
    }
    return s;
  }
  for (const char* f : {"/.kaggle/access_token", "/.kaggle/access_token.txt"}) {
    if (!home.empty() && file_exists(home + f)) {
      s.value = trimmed(read_secret_file(home + f, s.warnings));
      s.kaggle_token = true;
      s.origin = home + f;
      return s;
    }
  }
  std::string dir = env_or(env, "KAGGLE_CONFIG_DIR");
  if (dir.empty() && !home.empty()) {
    dir = home + "/.kaggle";
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      dir = env_or(env, "XDG_CONFIG_HOME", home + "/.config") + "/kaggle";
    }
  }
  if (!dir.empty() && file_exists(dir + "/kaggle.json")) {
    read_kaggle_file(dir + "/kaggle.json", s);
  }
  // Environment wins key by key over the file (§2.2 step 1).
  if (std::string u = env_or(env, "KAGGLE_USERNAME"); !u.empty()) {
    s.username = u;
  }
  if (std::string k = env_or(env, "KAGGLE_KEY"); !k.empty()) {
    s.value = k;
    s.kaggle_token = false;
    s.origin = s.origin.empty() ? "KAGGLE_KEY" : s.origin + " and KAGGLE_KEY";
  }
  if (s.value.empty() || (!s.kaggle_token && s.username.empty())) {
    throw_usage("no Kaggle credentials: set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, "
                "or give the account a token or kaggle.json with 'gpuctl account set NAME "
                "--credentials FILE'");
  }
  return s;
}

std::optional<std::string>
credentials_source(Provider provider, const std::optional<std::string>& account_file,
                   const EnvLookup& env)
{
  if (account_file) {
    return "file";
  }
  std::string home = env_or(env, "HOME");
  switch (provider) {
  case Provider::kaggle: {
    std::string token = env_or(env, "KAGGLE_API_TOKEN");
    if (!token.empty()) {
      return file_exists(token) ? "file" : "env";
    }
    if (!home.empty() &&
        (file_exists(home + "/.kaggle/access_token") || file_exists(home + "/.kaggle/access_token.txt"))) {
      return "file";
    }
    if (!env_or(env, "KAGGLE_USERNAME").empty() && !env_or(env, "KAGGLE_KEY").empty()) {
      return "env";
    }
    std::string dir = env_or(env, "KAGGLE_CONFIG_DIR", home.empty() ? "" : home + "/.kaggle");
    if (!dir.empty() && file_exists(dir + "/kaggle.json")) {
      return "file";
    }
    return std::nullopt;
  }
  case Provider::vast: {
    if (!env_or(env, "VAST_API_KEY").empty()) {
      return "env";
    }
    std::string cfg = env_or(env, "XDG_CONFIG_HOME", home.empty() ? "" : home + "/.config");
    if ((!cfg.empty() && file_exists(cfg + "/vastai/vast_api_key")) ||
        (!home.empty() && file_exists(home + "/.vast_api_key"))) {
      return "file";
    }
    return std::nullopt;
  }
  default: return std::nullopt;
  }
}

} // namespace gpuctl::providers
