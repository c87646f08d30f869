// SPDX-License-Identifier: MIT
#include "gpuctl/output/terminal.hpp"

#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace gpuctl::output {

static_assert(sizeof(termios) <= 64, "FullScreen keeps a struct termios in 64 bytes");

void
write_all(int fd, const std::string& s)
{
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return; // the terminal is gone: nothing more to show
    }
    done += static_cast<size_t>(n);
  }
}

std::pair<int, int>
terminal_size(int fd)
{
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    return {ws.ws_col, ws.ws_row};
  }
  return {80, 24};
}

FullScreen::FullScreen(int in_fd, int out_fd) : m_in(in_fd), m_out(out_fd)
{
  termios t{};
  if (::isatty(m_in) == 1 && ::tcgetattr(m_in, &t) == 0) {
    std::memcpy(m_saved, &t, sizeof t);
    m_termios_saved = true;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    ::tcsetattr(m_in, TCSANOW, &t);
  }
  // Alternate screen, cursor hidden, home.
  write_all(m_out, "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
}

FullScreen::~FullScreen()
{
  write_all(m_out, "\x1b[0m\x1b[?25h\x1b[?1049l");
  if (m_termios_saved) {
    termios t{};
    std::memcpy(&t, m_saved, sizeof t);
    ::tcsetattr(m_in, TCSANOW, &t);
  }
}

void
FullScreen::draw(const std::vector<std::string>& lines)
{
  std::string frame = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    frame += lines[i];
    frame += "\x1b[K";
    if (i + 1 < lines.size()) {
      frame += "\r\n";
    }
  }
  frame += "\x1b[J";
  write_all(m_out, frame);
}

} // namespace gpuctl::output
