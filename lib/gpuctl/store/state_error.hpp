// SPDX-License-Identifier: MIT
// What an SQLite error that escaped a command means to the user (DESIGN §9 exit codes).
#pragma once

#include "gpuctl/core/error.hpp"

#include <exception>
#include <optional>
#include <string>

namespace gpuctl::store {

/// For an SQLite error that reached the top of a command (a damaged page met in the middle of a
/// read, a disk error): the Error it stands for, naming the state file at `path`. A damaged file
/// (SQLITE_CORRUPT, SQLITE_NOTADB) is ErrorKind::usage (exit 2, as DESIGN §9 lists "is damaged");
/// a full disk or an I/O error is ErrorKind::failure (exit 1). nullopt for anything else, which
/// stays an internal error.
std::optional<Error> state_error(const std::exception& e, const std::string& path);

} // namespace gpuctl::store
