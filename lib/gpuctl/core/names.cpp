// SPDX-License-Identifier: MIT
#include "gpuctl/core/names.hpp"

#include "gpuctl/core/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace gpuctl {

namespace {

constexpr std::array<std::string_view, 4> k_providers = {"kaggle", "colab", "vast", "ssh"};

constexpr std::array<std::string_view, 49> k_reserved = {
    "init",     "version",   "config",    "show",     "path",      "account",   "add",
    "set",      "list",      "rm",        "check",    "worker",    "enable",    "disable",
    "sync",     "start",     "stop",      "destroy",  "session",   "quota",     "status",
    "schedule", "job",       "submit",    "cancel",   "logs",      "offers",    "search",
    "rent",     "hibernate", "now",       "watchdog", "stats",     "wake",      "events",
    "prune",    "autoscale", "completion", "help",    "hibernate-sweep", "all", "none",
    "default",  "never",     "bash",      "zsh",      "fish",      "__complete", "remove"};

} // namespace

std::string_view
to_string(Provider p)
{
  return k_providers[static_cast<size_t>(p)];
}

std::span<const std::string_view>
provider_names()
{
  return k_providers;
}

std::optional<Provider>
provider_from_string(std::string_view text)
{
  for (size_t i = 0; i < k_providers.size(); ++i) {
    if (k_providers[i] == text) {
      return static_cast<Provider>(i);
    }
  }
  return std::nullopt;
}

Provider
parse_provider(std::string_view text)
{
  if (auto p = provider_from_string(text)) {
    return *p;
  }
  std::string hint = did_you_mean(text, k_providers);
  throw_usage("unknown provider '{}'{} (expected kaggle, colab, vast or ssh)", text,
              hint.empty() ? "" : fmt::format(": did you mean '{}'?", hint));
}

std::span<const std::string_view>
reserved_words()
{
  return k_reserved;
}

void
validate_name(std::string_view name, std::string_view what)
{
  auto ok_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  };
  if (name.empty()) {
    throw_usage("{} name must not be empty", what);
  }
  if (name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), ok_char)) {
    throw_usage("invalid {} name '{}': use 1-64 characters from A-Z a-z 0-9 . _ -, starting "
                "with a letter or digit",
                what, name);
  }
  if (std::find(k_reserved.begin(), k_reserved.end(), name) != k_reserved.end()) {
    throw_usage("invalid {} name '{}': it is a gpuctl command word", what, name);
  }
}

size_t
edit_distance(std::string_view a, std::string_view b)
{
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string
did_you_mean(std::string_view word, std::span<const std::string_view> candidates)
{
  std::string best;
  size_t best_d = 3;
  for (auto c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  if (best.empty() && word.size() >= 3) {
    for (auto c : candidates) {
      if (c.starts_with(word)) {
        return std::string(c);
      }
    }
  }
  return best;
}

} // namespace gpuctl
