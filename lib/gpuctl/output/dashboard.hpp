// SPDX-License-Identifier: MIT
// The frame of `gpuctl status --watch`: a Dashboard rendered as lines that fit a screen.
#pragma once
#include "gpuctl/core/time.hpp"
#include "gpuctl/fleet/dashboard.hpp"

#include <string>
#include <vector>

namespace gpuctl::output {

struct FrameOptions {
  int width = 80;          ///< columns; every line is cut to this visible width
  int height = 0;          ///< rows; 0 = no limit (plain frames off a terminal)
  bool color = false;      ///< ANSI colours (bars in their band's colour)
  bool unicode = true;     ///< block characters for bars; false = '#' and '.'
  std::string footer;      ///< the last line ("every 5s · q quits"); "" = none
};

/// Renders `d` as at most `height` lines (lists that do not fit end with "… N more") of at most
/// `width` visible columns, times in `zone`. Pure: reads nothing but its arguments.
std::vector<std::string> render_dashboard(const fleet::Dashboard& d, const DisplayZone& zone,
                                          double safe_below, const FrameOptions& opt);

/// Visible columns of `s`: UTF-8 code points, ANSI escape sequences not counted.
size_t visible_width(const std::string& s);
/// `s` cut to `width` visible columns (a colour in force is reset after the cut).
std::string cut_to_width(const std::string& s, size_t width);

} // namespace gpuctl::output
