// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

namespace gpuctl::output {

/// ANSI styles for table cells; rendered only when colour is on.
enum class Style { plain, bold, dim, green, yellow, red, cyan };

/// Wraps `text` in the escape codes of `style` when `color` is true.
std::string styled(const std::string& text, Style style, bool color);

/// Whether to colour stdout: a TTY, no NO_COLOR, no --no-color.
bool use_color(bool no_color_flag);

/// An aligned text table: a header row and data rows, columns separated by two spaces,
/// alignment computed on visible width (UTF-8 aware, escape codes ignored).
class Table {
public:
  explicit Table(std::vector<std::string> headers) : m_headers(std::move(headers)) {}
  /// Adds a row; cells may carry a style.
  void add(std::vector<std::string> cells, std::vector<Style> styles = {});
  /// Right-aligns column `i` (numbers).
  void align_right(size_t i);
  std::string render(bool color) const;
  bool empty() const { return m_rows.empty(); }

private:
  std::vector<std::string> m_headers;
  std::vector<std::vector<std::string>> m_rows;
  std::vector<std::vector<Style>> m_styles;
  std::vector<bool> m_right;
};

/// Visible width of UTF-8 text (code points).
size_t display_width(const std::string& s);

} // namespace gpuctl::output
