// SPDX-License-Identifier: MIT
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace gpuctl {

/// What went wrong, which fixes the process exit code (DESIGN §9).
enum class ErrorKind {
  failure = 1,      ///< the operation ran and reports failure
  usage = 2,        ///< usage or invalid input; nothing was written
  provider = 3,     ///< provider or network error after retries
  conflict = 4,     ///< exists with other attributes, locked, busy, refused by a limit, newer schema
  interrupted = 130 ///< SIGINT / SIGTERM
};

/// The one exception type services throw; `main` prints `gpuctl: error: <what()>` and exits
/// with `exit_code()`.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const noexcept { return m_kind; }
  int exit_code() const noexcept { return static_cast<int>(m_kind); }

private:
  ErrorKind m_kind;
};

/// Throws a usage error (exit 2) with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void
throw_usage(fmt::format_string<Args...> f, Args&&... args)
{
  throw Error(ErrorKind::usage, fmt::format(f, std::forward<Args>(args)...));
}

/// Throws a state-conflict error (exit 4) with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void
throw_conflict(fmt::format_string<Args...> f, Args&&... args)
{
  throw Error(ErrorKind::conflict, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace gpuctl
