// SPDX-License-Identifier: MIT
// The locks of long operations (DESIGN §3): flock on a file next to the state file, non-blocking,
// released when the object is destroyed or the process dies.
#pragma once
#include <string>

namespace gpuctl {

class FileLock {
public:
  /// Locks `path` (created 0600). Throws Error(conflict) "`busy_message` (lock PATH)" when another
  /// process holds it, Error(usage) when the file cannot be opened or locked.
  FileLock(const std::string& path, const std::string& busy_message);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  int m_fd = -1;
};

} // namespace gpuctl
