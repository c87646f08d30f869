// SPDX-License-Identifier: MIT
// gpuctl-man-toml5: writes gpuctl.toml(5) (roff) from the config key table the loader uses
// (lib/gpuctl/config/keys.cpp), so the page cannot drift from the keys.
//
//   gpuctl-man-toml5 --write man/gpuctl.toml.5    (cmake --build build --target man-toml5)
//   gpuctl-man-toml5 --check man/gpuctl.toml.5    exit 1 when the file differs (a CTest test)
#include "gpuctl/config/keys.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#ifndef GPUCTL_VERSION
#define GPUCTL_VERSION "0.0.0"
#endif

namespace {

using gpuctl::config::KeySpec;
using gpuctl::config::KeyType;

/// Text for roff: backslashes and minus signs escaped, non-ASCII as groff glyphs.
std::string
roff(std::string_view s)
{
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // One UTF-8 code point.
      int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      unsigned cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
      for (int k = 1; k < len && i + 1 < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
      }
      char buf[16];
      if (cp == 0x2192) {
        out += "\\(->";
      } else if (cp == 0xD7) {
        out += "\\(mu";
      } else {
        std::snprintf(buf, sizeof buf, "\\[u%04X]", cp);
        out += buf;
      }
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) {
    out.insert(0, "\\&");
  }
  return out;
}

bool
quoted(KeyType t)
{
  return t != KeyType::boolean && t != KeyType::integer && t != KeyType::number;
}

/// "Weekly reset, day and time in UTC." from "weekly reset, day and time in UTC".
std::string
sentence(std::string_view doc)
{
  std::string s(doc);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') {
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  }
  if (!s.empty() && s.back() != '.') {
    s += '.';
  }
  return s;
}

std::string
choices_text(std::string_view choices)
{
  std::vector<std::string> parts;
  std::string cur;
  for (char c : choices) {
    if (c == '|') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == parts.size() ? " or " : ", ") + std::string("\\fB") +
           roff(parts[i]) + "\\fR";
  }
  return out;
}

const char* k_description = R"ROFF(The configuration file is TOML.
Every key is optional and has a default; a value comes from, in order of precedence, a command-line
option, an environment variable, the file, the default.
.B gpuctl config show
prints every key, its value and its source.
An unknown key is an error (exit 2) naming the key and its line, with a \(lqdid you mean\(rq
suggestion; a value of the wrong type, and malformed TOML, are errors (exit 2) with the line (and
column).
Integers and floats may not be negative.
Credentials never go in this file.
.PP
The values must also fit together, wherever each comes from (exit 2 otherwise, naming the keys):
.IP \(bu 2
.B quota.safe_below
and
.B quota.critical_above
are shares in (0,\ 1], and
.B safe_below
is at most
.BR critical_above .
.IP \(bu 2
.B providers.kaggle.concurrent
and
.B providers.colab.concurrent
are at least 1.
.IP \(bu 2
For Kaggle and Colab,
.B session_max
is longer than 0 and
.B shutdown_margin
is shorter than it.
An account's own
.B \-\-session\-max
and
.B \-\-shutdown\-margin
are checked the same way against the values they combine with.
.IP \(bu 2
.B autoscale.min
is at most
.BR autoscale.max .
.IP \(bu 2
A
.B base_url
(also from
.B GPUCTL_KAGGLE_URL
or
.BR GPUCTL_VAST_URL )
is
.BR https:// ;
plain
.B http://
is allowed only for
.BR localhost ,
.B [::1]
or a dotted IPv4 address in 127.0.0.0/8
.RB ( 127.0.0.1 ,
not
.BR 127.0.0.1.example.com ),
for test servers.
A URL may not carry a
.IB user @
part: credentials do not belong in it.
.PP
Like any other error in the configuration, breaking these rules makes every command fail (exit 2),
even
.B version
and
.BR config ,
not only those that use the key; only
.B \-\-help
and
.B \-\-version
still work.
.PP
In this version
.BR [display] ,
.BR [quota] ,
.BR [providers.kaggle] ,
.BR [providers.colab] ,
.BR [providers.vast] ,
.B [net]
and
.B [scheduler]
are used: local times, policies, windows, bands, deadlines and plans
.RB ( quota.safe_below
caps what
.B schedule
plans and where jobs are dispatched), the provider calls (see
.BR NETWORK ),
and the scheduler tick
.RB ( scheduler.tick
is the default
.BR \-\-tick ,
.B scheduler.heartbeat_timeout
when a worker that does not answer goes offline);
.B providers.vast.start_timeout
bounds
.B "offers rent \-\-wait"
and
.BR "wake \-\-wait" ,
and is when
.B wake
rents anew;
.B [hibernate]
holds the default idle rules of
.B hibernate\-sweep
(see
.BR HIBERNATION ).
The
.B [autoscale]
keys are checked and shown by
.BR "config show" ,
and are there for the autoscaling commands that this version does not have yet; the descriptions
say what they are for.
The reset times are in UTC.
)ROFF";

std::string
page()
{
  std::ostringstream o;
  o << ".\\\" gpuctl.toml(5): GENERATED by tools/gen_man_toml5.cpp from lib/gpuctl/config/keys.cpp.\n"
       ".\\\" Do not edit: change the key table or the generator, then run\n"
       ".\\\"   cmake --build build --target man-toml5\n"
       ".\\\" SPDX-License-Identifier: MIT\n"
       ".nr HY 0\n"
       ".TH GPUCTL.TOML 5 2026-11-30 \"gpuctl " GPUCTL_VERSION "\" \"File Formats\"\n"
       ".nh\n"
       ".ad l\n"
       ".SH NAME\n"
       "gpuctl.toml \\- the configuration file of gpuctl\n"
       ".SH SYNOPSIS\n"
       ".I $XDG_CONFIG_HOME/gpuctl/config.toml\n"
       "(default\n"
       ".IR ~/.config/gpuctl/config.toml ;\n"
       "another file with\n"
       ".B \\-\\-config\n"
       "or\n"
       ".BR GPUCTL_CONFIG )\n"
       ".SH DESCRIPTION\n"
    << k_description
    << ".SH KEYS\n"
       "Each key is listed under its TOML table with its type, its default and what it does.\n"
       "Durations are written as in\n"
       ".BR gpuctl (1):\n"
       ".BR 90m ,\n"
       ".BR 1h30m ,\n"
       ".BR 1.5h ,\n"
       ".BR 2d ,\n"
       ".BR 45s .\n";
  std::string section;
  for (const KeySpec& k : gpuctl::config::key_table()) {
    std::string_view name = k.name;
    size_t dot = name.rfind('.');
    std::string sec(name.substr(0, dot));
    if (sec != section) {
      section = sec;
      o << ".SS \"[" << roff(sec) << "]\"\n";
    }
    o << ".TP 20\n.B " << roff(name.substr(dot + 1)) << "\n";
    std::string def = quoted(k.type) ? "\"" + std::string(k.default_text) + "\"" : std::string(k.default_text);
    if (k.type == KeyType::choice) {
      o << "\\fIchoice\\fR: " << choices_text(k.choices) << ", default \\fB" << roff(def) << "\\fR\n";
    } else {
      o << "\\fI" << roff(gpuctl::config::type_name(k.type)) << "\\fR, default \\fB" << roff(def)
        << "\\fR\n";
    }
    o << ".br\n" << roff(sentence(k.doc));
    if (!k.env.empty()) {
      o << " Overridden by \\fB" << roff(k.env) << "\\fR.";
    }
    o << "\n";
  }
  o << ".SH EXAMPLE\n"
       "Kaggle accounts with a 20 h week, Colab sessions stopped an hour before their cap, times\n"
       "shown in Berlin, and idle vast.ai instances destroyed after a week of hibernation:\n"
       ".PP\n"
       ".EX\n"
       "[display]\n"
       "tz = \"Europe/Berlin\"\n"
       "\n"
       "[providers.kaggle]\n"
       "weekly_gpu_hours = 20.0\n"
       "\n"
       "[providers.colab]\n"
       "shutdown_margin = \"1h\"\n"
       "\n"
       "[hibernate]\n"
       "delete_after = \"7d\"\n"
       ".EE\n"
       ".PP\n"
       ".B gpuctl config show\n"
       "then lists those four keys with the source\n"
       ".B file\n"
       "and every other key with its default.\n"
       "The source tree's\n"
       ".I examples/config.toml\n"
       "holds every key with its default, commented out.\n"
       ".SH FILES\n"
       ".TP\n"
       ".I $XDG_CONFIG_HOME/gpuctl/config.toml\n"
       "The configuration file (default\n"
       ".IR ~/.config/gpuctl/config.toml ).\n"
       "It need not exist: every key has a default.\n"
       ".SH SEE ALSO\n"
       ".BR gpuctl (1)\n";
  return o.str();
}

} // namespace

int
main(int argc, char** argv)
{
  std::string text = page();
  if (argc == 3 && std::strcmp(argv[1], "--check") == 0) {
    std::ifstream in(argv[2], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in || ss.str() != text) {
      std::cerr << "gpuctl-man-toml5: " << argv[2]
                << " differs from the key table: regenerate it with\n"
                   "  cmake --build build --target man-toml5\n";
      return 1;
    }
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--write") == 0) {
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out << text;
    return out.good() ? 0 : 1;
  }
  if (argc != 1) {
    std::cerr << "usage: gpuctl-man-toml5 [--check FILE | --write FILE]\n";
    return 2;
  }
  std::cout << text;
  return 0;
}
