// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/core/names.hpp"

#include <functional>
#include <optional>
#include <string>

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

} // namespace gpuctl::providers
