// SPDX-License-Identifier: MIT
#include "gpuctl/core/file_lock.hpp"

#include "gpuctl/core/error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpuctl {

FileLock::FileLock(const std::string& path, const std::string& busy_message)
{
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw Error(ErrorKind::usage, fmt::format("cannot open the lock {}: {}", path, std::strerror(errno)));
  }
  if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(m_fd);
    m_fd = -1;
    if (err == EWOULDBLOCK) {
      throw_conflict("{} (lock {})", busy_message, path);
    }
    throw Error(ErrorKind::usage, fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
}

FileLock::~FileLock()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

} // namespace gpuctl
