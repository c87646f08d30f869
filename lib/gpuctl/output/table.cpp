// SPDX-License-Identifier: MIT
#include "gpuctl/output/table.hpp"

#include <cstdlib>
#include <unistd.h>

namespace gpuctl::output {

std::string
styled(const std::string& text, Style style, bool color)
{
  if (!color || style == Style::plain) {
    return text;
  }
  const char* code = "";
  switch (style) {
  case Style::bold: code = "1"; break;
  case Style::dim: code = "2"; break;
  case Style::green: code = "32"; break;
  case Style::yellow: code = "33"; break;
  case Style::red: code = "31"; break;
  case Style::cyan: code = "36"; break;
  case Style::plain: break;
  }
  return std::string("\x1b[") + code + "m" + text + "\x1b[0m";
}

bool
use_color(bool no_color_flag)
{
  if (no_color_flag) {
    return false;
  }
  if (const char* nc = std::getenv("NO_COLOR"); nc != nullptr && *nc != '\0') {
    return false;
  }
  return ::isatty(STDOUT_FILENO) == 1;
}

size_t
display_width(const std::string& s)
{
  size_t w = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      ++w;
    }
  }
  return w;
}

void
Table::add(std::vector<std::string> cells, std::vector<Style> styles)
{
  cells.resize(m_headers.size());
  styles.resize(m_headers.size(), Style::plain);
  m_rows.push_back(std::move(cells));
  m_styles.push_back(std::move(styles));
}

void
Table::align_right(size_t i)
{
  if (m_right.size() <= i) {
    m_right.resize(i + 1, false);
  }
  m_right[i] = true;
}

std::string
Table::render(bool color) const
{
  std::vector<size_t> width(m_headers.size(), 0);
  for (size_t i = 0; i < m_headers.size(); ++i) {
    width[i] = display_width(m_headers[i]);
  }
  for (const auto& row : m_rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], display_width(row[i]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<Style>* styles,
                  bool header) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool last = i + 1 == cells.size();
      size_t pad = width[i] - display_width(cells[i]);
      bool right = i < m_right.size() && m_right[i];
      Style st = header ? Style::bold : (styles != nullptr ? (*styles)[i] : Style::plain);
      std::string cell = styled(cells[i], st, color);
      if (right) {
        out += std::string(pad, ' ') + cell;
      } else {
        out += cell;
        if (!last) {
          out += std::string(pad, ' ');
        }
      }
      if (!last) {
        out += "  ";
      }
    }
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
    return out + "\n";
  };
  std::string out = line(m_headers, nullptr, true);
  for (size_t r = 0; r < m_rows.size(); ++r) {
    out += line(m_rows[r], &m_styles[r], false);
  }
  return out;
}

} // namespace gpuctl::output
