// SPDX-License-Identifier: MIT
// Internal to store/: binding optional values and reading nullable columns, shared by the
// repositories (instants as epoch seconds, see epoch.hpp).
#pragma once
#include "gpuctl/store/epoch.hpp"

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>

namespace gpuctl::store {

/// Binds `v`, or NULL when unset.
template <typename T>
void
bind_opt(SQLite::Statement& st, int idx, const std::optional<T>& v)
{
  if (v) {
    st.bind(idx, *v);
  } else {
    st.bind(idx);
  }
}

/// Binds an instant as epoch seconds, or NULL when unset.
inline void
bind_opt(SQLite::Statement& st, int idx, const std::optional<Instant>& t)
{
  if (t) {
    st.bind(idx, epoch(*t));
  } else {
    st.bind(idx);
  }
}

inline std::optional<std::string>
opt_text(const SQLite::Column& c)
{
  return c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}

inline std::optional<double>
opt_double(const SQLite::Column& c)
{
  return c.isNull() ? std::nullopt : std::optional<double>(c.getDouble());
}

inline std::optional<std::int64_t>
opt_i64(const SQLite::Column& c)
{
  return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}

inline std::optional<int>
opt_int(const SQLite::Column& c)
{
  return c.isNull() ? std::nullopt : std::optional<int>(c.getInt());
}

inline std::optional<Instant>
opt_instant(const SQLite::Column& c)
{
  return c.isNull() ? std::nullopt : std::optional<Instant>(instant(c.getInt64()));
}

} // namespace gpuctl::store
