// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/core/names.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::providers {

/// Looks up an environment variable; nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

/// Where an account's credentials would come from, without reading them (DESIGN §10 account
/// `credentials`): "file" when the account names a credentials file or the provider's standard
/// file exists, "env" when the provider's standard variables are set, else nullopt.
/// Kaggle: KAGGLE_API_TOKEN > ~/.kaggle/access_token[.txt] > KAGGLE_USERNAME+KAGGLE_KEY >
/// $KAGGLE_CONFIG_DIR/kaggle.json or ~/.kaggle/kaggle.json (specs/kaggle-api.md §2.2).
/// vast.ai: VAST_API_KEY > $XDG_CONFIG_HOME/vastai/vast_api_key > ~/.vast_api_key
/// (specs/vast-api.md §2). Colab and ssh use none.
std::optional<std::string> credentials_source(Provider provider,
                                              const std::optional<std::string>& account_file,
                                              const EnvLookup& env);

/// Secrets read for one account. `warnings` are for the user (a credentials file readable by
/// others, as ssh and the Kaggle CLI warn, kaggle-api.md §2.4); never contain the secret.
struct Secret {
  std::string value;        ///< vast.ai key, Kaggle token, or Kaggle legacy key
  std::string username;     ///< Kaggle legacy key only
  bool kaggle_token = false; ///< Kaggle: an API token (Bearer) rather than a legacy key (Basic)
  std::string origin;       ///< where it came from, e.g. "VAST_API_KEY" or a file path
  std::vector<std::string> warnings;
};

/// Reads an account's credentials: its own file when it has one, else the provider's standard
/// variables and files in the official tools' order (vast-api.md §1.4; kaggle-api.md §2.2:
/// KAGGLE_API_TOKEN (value or path) > ~/.kaggle/access_token[.txt] > KAGGLE_USERNAME/KAGGLE_KEY
/// over kaggle.json, key by key). An account file holds either a Kaggle kaggle.json
/// ({"username","key"}) or a token / vast.ai key on its own. Throws Error(usage) naming what to
/// set when nothing is found or a file is unreadable or malformed; the message never holds a secret.
Secret load_secret(Provider provider, const std::optional<std::string>& account_file,
                   const EnvLookup& env);

} // namespace gpuctl::providers
