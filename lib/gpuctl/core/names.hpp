// SPDX-License-Identifier: MIT
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gpuctl {

/// The providers gpuctl knows (DESIGN §1).
enum class Provider { kaggle, colab, vast, ssh };

/// "kaggle", "colab", "vast", "ssh".
std::string_view to_string(Provider p);
/// Parses a provider name; throws Error(usage) listing the valid ones (with "did you mean").
Provider parse_provider(std::string_view text);
/// "kaggle", "colab", "vast", "ssh": every provider's name, in that order.
std::span<const std::string_view> provider_names();
/// Parses a provider name; nullopt when unknown.
std::optional<Provider> provider_from_string(std::string_view text);

/// Validates an account or worker name (DESIGN §9): `[A-Za-z0-9][A-Za-z0-9._-]{0,63}` and not a
/// subcommand word. `what` is "account" or "worker". Throws Error(usage).
void validate_name(std::string_view name, std::string_view what);

/// The words gpuctl uses as commands and subcommands; they cannot be names.
std::span<const std::string_view> reserved_words();

/// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` if it is close enough to be a plausible typo (distance ≤ 2,
/// or a prefix), else empty.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

} // namespace gpuctl
