// SPDX-License-Identifier: MIT
// A full-screen view on a terminal (`gpuctl status --watch`): the alternate screen, a hidden
// cursor and keys read one at a time without echo, all restored when the object goes away
// (also on an exception), and frames redrawn in place.
#pragma once
#include <string>
#include <vector>

namespace gpuctl::output {

class FullScreen {
public:
  /// Enters the alternate screen on `out_fd` and hides the cursor; when `in_fd` is a terminal,
  /// switches it to single keys without echo (signals such as Ctrl-C still work).
  FullScreen(int in_fd, int out_fd);
  /// Leaves the alternate screen, shows the cursor and restores the terminal's modes.
  ~FullScreen();
  FullScreen(const FullScreen&) = delete;
  FullScreen& operator=(const FullScreen&) = delete;

  /// Draws `lines` from the top left, clearing the rest of each line and of the screen (no
  /// flicker: nothing is cleared before it is drawn over).
  void draw(const std::vector<std::string>& lines);

private:
  int m_in;
  int m_out;
  bool m_termios_saved = false;
  unsigned char m_saved[64]; // struct termios, kept opaque here
};

/// The size of the terminal on `fd` as {columns, rows}; {80, 24} when it has none.
std::pair<int, int> terminal_size(int fd);

/// Writes all of `s` to `fd` (retrying short writes and EINTR).
void write_all(int fd, const std::string& s);

} // namespace gpuctl::output
