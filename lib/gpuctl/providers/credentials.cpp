// SPDX-License-Identifier: MIT
#include "gpuctl/providers/credentials.hpp"

#include <sys/stat.h>

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

} // namespace

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
