// At home in the shell (issue 10): the completion scripts and the man page cover every command
// and option of the binary, bash completion works against the real binary, zsh and fish load
// the scripts cleanly, and `gpuctl completion SHELL` prints the files byte for byte.
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

using namespace gpuctl::test;

namespace {

const std::string k_src = GPUCTL_SOURCE_DIR;

std::string
build_dir()
{
  return std::filesystem::path(GPUCTL_BINARY).parent_path().string();
}

std::vector<std::string>
lines_of(const std::string& text)
{
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    out.push_back(line);
  }
  return out;
}

/// Completes `line` (the cursor at its end) with bash and completions/gpuctl.bash, the binary
/// under test first on PATH; returns COMPREPLY. Fails the test on any word on stderr.
std::set<std::string>
bash_complete(std::map<std::string, std::string> env, const std::string& line)
{
  env["PATH"] = build_dir() + ":/usr/bin:/bin";
  const std::string script = k_src + "/completions/gpuctl.bash";
  const std::string driver = R"(
source "$0" || exit 9
line=$1
read -r -a COMP_WORDS <<<"$line"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
_gpuctl gpuctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
if [[ ${#COMPREPLY[@]} -gt 0 ]]; then printf '%s\n' "${COMPREPLY[@]}"; fi
)";
  RunResult r = run_prog({"bash", "-c", driver, script, line}, env);
  INFO("line: " << line << "\nstderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  auto words = lines_of(r.out);
  return std::set<std::string>(words.begin(), words.end());
}

std::string
join(const std::vector<std::string>& words, const std::string& sep)
{
  std::string out;
  for (const auto& w : words) {
    out += (out.empty() ? "" : sep) + w;
  }
  return out;
}

/// One command of the help tree: its path ("" for gpuctl itself), long options (with whether
/// they take a value) and subcommands.
struct Command {
  std::vector<std::string> path;
  std::map<std::string, bool> options; // "--db" -> takes a value
  std::vector<std::string> subcommands;
  std::string help; // the whole --help text
};

/// Parses CLI11's help: entries of the Options: and Subcommands: sections are the lines indented
/// by exactly two spaces (descriptions continue further in).
Command
parse_help(const std::vector<std::string>& path, const std::string& help)
{
  Command c;
  c.path = path;
  std::string section;
  for (const auto& line : lines_of(help)) {
    if (!line.empty() && line[0] != ' ') {
      section = line; // "Options:" / "OPTIONS:", by CLI11 version
      for (auto& ch : section) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      continue;
    }
    if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] == ' ') {
      continue;
    }
    // The name column ends where the description starts (two blanks); it holds the names and,
    // for an option with a value, the value's type ("--db TEXT", "--reset TEXT ...").
    std::string entry = line.substr(2);
    std::stringstream ss(entry.substr(0, entry.find("  ")));
    std::string names, type;
    ss >> names >> type;
    if (section == "SUBCOMMANDS:") {
      c.subcommands.push_back(names);
    } else if (section == "OPTIONS:") {
      // "-q,--quiet", "--db TEXT", "--reset TEXT ..."; a value's type is upper case.
      bool value = std::regex_match(type, std::regex("[A-Z]+(:.*)?")) && type != "REQUIRED";
      std::stringstream ns(names);
      std::string n;
      while (std::getline(ns, n, ',')) {
        if (n.starts_with("--")) {
          c.options[n] = value;
        }
      }
    }
  }
  return c;
}

std::vector<Command>
help_tree()
{
  Cli cli;
  std::vector<Command> out;
  std::vector<std::vector<std::string>> todo{{}};
  while (!todo.empty()) {
    auto path = todo.back();
    todo.pop_back();
    auto args = path;
    args.push_back("--help");
    RunResult r = cli.run(args);
    INFO("gpuctl " << join(args, " ") << "\n" << r.err);
    REQUIRE(r.code == 0);
    Command c = parse_help(path, r.out);
    c.help = r.out;
    for (const auto& s : c.subcommands) {
      auto p = path;
      p.push_back(s);
      todo.push_back(p);
    }
    out.push_back(c);
  }
  return out;
}

bool
has_word(const std::string& text, const std::string& word)
{
  size_t pos = 0;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
  while ((pos = text.find(word, pos)) != std::string::npos) {
    bool left = pos == 0 || !is_word(text[pos - 1]);
    bool right = pos + word.size() >= text.size() || !is_word(text[pos + word.size()]);
    if (left && right) {
      return true;
    }
    ++pos;
  }
  return false;
}

/// bash: the value of `_gpuctl_NAME="..."`.
std::string
bash_var(const std::string& script, const std::string& name)
{
  std::smatch m;
  std::regex re("\n" + name + "=\"([^\"]*)\"");
  return std::regex_search(script, m, re) ? m[1].str() : std::string();
}

/// bash: `$_gpuctl_xxx` references replaced by the variables' values.
std::string
bash_expand(const std::string& script, std::string text)
{
  std::regex ref(R"(\$(_gpuctl_[a-z_]+))");
  std::smatch m;
  while (std::regex_search(text, m, ref)) {
    text = m.prefix().str() + bash_var(script, m[1].str()) + m.suffix().str();
  }
  return text;
}

/// bash: the text after `LABEL) WHAT"` (WHAT: `echo ` or `words_here=`) up to the closing quote.
std::string
bash_case(const std::string& script, const std::string& label, const std::string& what)
{
  for (const auto& line : lines_of(script)) {
    size_t i = line.find_first_not_of(' ');
    if (i == std::string::npos) continue;
    std::string rest = line.substr(i);
    for (const std::string& l : {label, "\"" + label + "\""}) {
      std::string head = l + ") " + what + "\"";
      if (rest.starts_with(head)) {
        std::string v = rest.substr(head.size());
        return bash_expand(script, v.substr(0, v.find('"')));
      }
      // `completion) ((npos == 0)) && words_here="…"`
      std::string head2 = l + ") ((npos == 0)) && " + what + "\"";
      if (rest.starts_with(head2)) {
        std::string v = rest.substr(head2.size());
        return bash_expand(script, v.substr(0, v.find('"')));
      }
    }
  }
  return "\x01missing";
}

/// zsh: the body of function NAME, and the values of the `_gpuctl_*` arrays it names.
std::string
zsh_function(const std::string& script, const std::string& name)
{
  std::string head = "\n" + name + "() {";
  size_t at = script.find(head);
  if (at == std::string::npos) {
    return "";
  }
  // A one-line function ends at its line's "}"; a longer one at the next line that is "}".
  size_t eol = script.find('\n', at + 1);
  std::string first = script.substr(at + 1, eol - at - 1);
  std::string body;
  if (first.ends_with("}")) {
    body = first;
  } else {
    size_t end = script.find("\n}\n", at);
    body = script.substr(at + 1, end - at);
  }
  std::string out = body;
  std::regex ref(R"(\$(_gpuctl_[a-z_]+))");
  for (std::sregex_iterator it(body.begin(), body.end(), ref), e; it != e; ++it) {
    std::string arr = "\n" + (*it)[1].str() + "=(";
    size_t a = script.find(arr);
    if (a != std::string::npos) {
      out += script.substr(a, script.find("\n)", a) - a);
    }
  }
  return out;
}

std::string
roff(const std::string& s)
{
  std::string out;
  for (char c : s) {
    if (c == '-') out += '\\';
    out += c;
  }
  return out;
}

std::string
path_label(const std::vector<std::string>& path)
{
  return path.empty() ? "gpuctl" : "gpuctl " + join(path, " ");
}

} // namespace

TEST_CASE("completions and man page cover every command and long option of gpuctl --help")
{
  const std::string bash = read_file(k_src + "/completions/gpuctl.bash");
  const std::string zsh = read_file(k_src + "/completions/gpuctl.zsh");
  const std::string fish = read_file(k_src + "/completions/gpuctl.fish");
  const std::string man = read_file(k_src + "/man/gpuctl.1");
  REQUIRE(!bash.empty());
  REQUIRE(!zsh.empty());
  REQUIRE(!fish.empty());
  REQUIRE(!man.empty());
  auto tree = help_tree();
  REQUIRE(tree.size() > 40);
  std::set<std::string> seen;
  for (const auto& c : tree) {
    seen.insert(join(c.path, " "));
  }
  // The walk found the commands (and not the hidden one).
  CHECK(seen.count("worker add") == 1);
  CHECK(seen.count("events prune") == 1);
  CHECK(seen.count("completion") == 1);
  CHECK(seen.count("__complete") == 0);

  const std::string bash_globals = bash_var(bash, "_gpuctl_global_opts");
  const std::string bash_global_values = bash_var(bash, "_gpuctl_global_value_opts");
  std::vector<std::string> missing;
  for (const auto& c : tree) {
    const std::string p = join(c.path, " ");
    const std::string label = path_label(c.path);
    // Subcommands: in the parent's word list (bash), its _describe array (zsh), a completion
    // conditioned on the parent (fish), and a section of the man page.
    for (const auto& s : c.subcommands) {
      std::string full = label + " " + s;
      if (!has_word(bash_case(bash, p.empty() ? "\"\"" : p, "words_here="), s)) {
        missing.push_back("bash: subcommand " + full);
      }
      std::string zarr = p.empty() ? "_gpuctl_commands" : "_gpuctl_sub_" + p;
      size_t za = zsh.find("\n" + zarr + "=(");
      std::string zbody = za == std::string::npos ? "" : zsh.substr(za, zsh.find(")\n", za) - za);
      if (zbody.find("'" + s + ":") == std::string::npos &&
          zbody.find("\"" + s + ":") == std::string::npos) {
        missing.push_back("zsh: subcommand " + full);
      }
      std::string cond = p.empty() ? "\"\"" : p;
      bool in_fish = false;
      for (const auto& line : lines_of(fish)) {
        bool on_parent = line.find("-n '__gpuctl_at " + cond + "'") != std::string::npos ||
                         line.find("-n '__gpuctl_at_pos " + cond + "'") != std::string::npos;
        in_fish = in_fish || (on_parent && has_word(line, "-a " + s));
      }
      if (!in_fish) {
        missing.push_back("fish: subcommand " + full);
      }
      std::string sec = ".SS \"" + roff(full);
      bool in_man = false;
      for (size_t at = man.find(sec); at != std::string::npos; at = man.find(sec, at + 1)) {
        char next = man[at + sec.size()];
        in_man = in_man || next == ' ' || next == '"';
      }
      if (!in_man) {
        missing.push_back("man: section " + full);
      }
    }
    // Long options: offered for this command (or everywhere, for the global ones), and
    // documented in the man page.
    const std::string bash_leaf = p.empty() ? "" : bash_case(bash, p, "echo ");
    const std::string zsh_leaf =
        zsh_function(zsh, p.empty() ? "_gpuctl" : "_gpuctl_cmd_" + join(c.path, "_"));
    for (const auto& [opt, value] : c.options) {
      if (opt == "--help" && !p.empty()) {
        continue; // offered everywhere: checked once, for gpuctl itself
      }
      const std::string what = label + " " + opt;
      if (!has_word(bash_leaf, opt) && !has_word(bash_globals, opt)) {
        missing.push_back("bash: option " + what);
      }
      std::string escaped; // "account\ add": the file writes some case patterns so
      for (char ch : p) {
        escaped += ch == ' ' ? std::string("\\ ") : std::string(1, ch);
      }
      if (value && !has_word(bash_global_values, opt) && !has_word(bash, p + ":" + opt) &&
          !has_word(bash, escaped + ":" + opt)) {
        missing.push_back("bash: option takes a value (_gpuctl_takes_value) " + what);
      }
      if (!has_word(zsh_leaf, opt)) {
        missing.push_back("zsh: option " + what);
      }
      std::string cond = p.empty() ? "\"\"" : p;
      std::string l = " -l " + opt.substr(2);
      bool in_fish = false;
      for (const auto& line : lines_of(fish)) {
        if (!line.starts_with("complete -c gpuctl ") || !has_word(line, l.substr(1))) {
          continue;
        }
        bool global = line.find("'__gpuctl_at ") == std::string::npos &&
                      line.find("'__gpuctl_at_pos ") == std::string::npos &&
                      line.find("\"__gpuctl_at ") == std::string::npos;
        in_fish = in_fish || global || line.find("-n '__gpuctl_at " + cond + "'") != std::string::npos;
      }
      if (!in_fish) {
        missing.push_back("fish: option " + what);
      }
      if (man.find(roff(opt)) == std::string::npos) {
        missing.push_back("man: option " + what + " (" + roff(opt) + ")");
      }
    }
  }
  INFO("missing:\n" << join(missing, "\n"));
  CHECK(missing.empty());
}

TEST_CASE("every command's --help starts with its purpose and shows an example")
{
  auto tree = help_tree();
  REQUIRE(tree.size() > 40);
  for (const auto& c : tree) {
    CAPTURE(join(c.path, " "));
    auto ls = lines_of(c.help);
    REQUIRE(ls.size() > 2);
    CHECK_FALSE(ls[0].empty());                   // the one-line purpose
    CHECK(ls[0].rfind("Usage:", 0) != 0);
    // "Example: gpuctl ..." (or a crontab line, or the lines after a bare "Example:")
    auto at = c.help.find("\nExample:");
    CHECK(at != std::string::npos);
    if (at != std::string::npos) {
      CHECK(c.help.find("gpuctl ", at) < c.help.find("Usage:", at));
    }
  }
}

TEST_CASE("bash completion: command words, and worker names from the binary under test")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  cli.ok({"worker", "add", "w2", "--account", "lab", "--host", "u@h2"});
  auto complete = [&](const std::string& line) { return bash_complete(cli.env, line); };
  CHECK(complete("gpuctl wor") == std::set<std::string>{"worker"});
  CHECK(complete("gpuctl comp") == std::set<std::string>{"completion"});
  CHECK(complete("gpuctl completion ") == std::set<std::string>{"bash", "fish", "zsh"});
  CHECK(complete("gpuctl worker show ") == std::set<std::string>{"w1", "w2"});
  CHECK(complete("gpuctl worker show w") == std::set<std::string>{"w1", "w2"});
  CHECK(complete("gpuctl session list --worker w") == std::set<std::string>{"w1", "w2"});
  CHECK(complete("gpuctl quota ") == std::set<std::string>{"lab"});
  // --db on the line wins: an empty state file there has no workers.
  Cli other;
  other.ok({"init"});
  CHECK(complete("gpuctl --db " + other.db_path() + " worker show ").empty());
}

TEST_CASE("zsh and fish load the completion scripts without a word on stderr")
{
  Cli cli;
  auto env = cli.env;
  env["PATH"] = build_dir() + ":/usr/bin:/bin";
  env["ZDOTDIR"] = cli.dir() / "home";
  RunResult z = run_prog({"zsh", "-c",
                          "autoload -U compinit && compinit -u && source " + k_src +
                              "/completions/gpuctl.zsh && [[ ${_comps[gpuctl]} == _gpuctl ]]"},
                         env);
  INFO("zsh stderr: " << z.err);
  CHECK(z.code == 0);
  CHECK(z.err.empty());
  RunResult f = run_prog(
      {"fish", "--no-config", "-c", "source " + k_src + "/completions/gpuctl.fish"}, env);
  INFO("fish stderr: " << f.err);
  CHECK(f.code == 0);
  CHECK(f.err.empty());
  // fish's own completer, against the binary under test.
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  cli.ok({"worker", "add", "w2", "--account", "lab", "--host", "u@h2"});
  auto fish_complete = [&](const std::string& line) {
    RunResult r = run_prog({"fish", "--no-config", "-c",
                            "source " + k_src + "/completions/gpuctl.fish; and complete -C'" +
                                line + "'"},
                           env);
    INFO("fish line: " << line << "\nstderr: " << r.err);
    CHECK(r.code == 0);
    std::set<std::string> words;
    for (const auto& l : lines_of(r.out)) {
      words.insert(l.substr(0, l.find('\t')));
    }
    return words;
  };
  CHECK(fish_complete("gpuctl wor") == std::set<std::string>{"worker"});
  CHECK(fish_complete("gpuctl worker show ") == std::set<std::string>{"w1", "w2"});
  CHECK(fish_complete("gpuctl completion ") == std::set<std::string>{"bash", "fish", "zsh"});
}

TEST_CASE("gpuctl completion bash|zsh|fish prints the files of completions/ byte for byte")
{
  Cli cli;
  for (const char* shell : {"bash", "zsh", "fish"}) {
    INFO("shell: " << shell);
    RunResult r = cli.ok({"completion", shell});
    CHECK(r.err.empty());
    CHECK(r.out == read_file(k_src + "/completions/gpuctl." + shell));
  }
  // It needs neither a config nor a state file: a broken config does not stop it.
  write_file(cli.dir() / "bad.toml", "[[[ not toml");
  RunResult r = cli.run({"--config", cli.dir() / "bad.toml", "completion", "bash"});
  CHECK(r.code == 0);
  CHECK(r.out == read_file(k_src + "/completions/gpuctl.bash"));
  CHECK(!std::filesystem::exists(cli.db_path()));
  RunResult bad = cli.run({"completion", "tcsh"});
  CHECK(bad.code == 2);
  CHECK(bad.out.empty());
}

TEST_CASE("cmake --install puts every file where its tool looks, and the installed gpuctl runs")
{
  Cli cli;
  const std::string prefix = cli.dir() / "prefix";
  RunResult inst = run_prog({GPUCTL_CMAKE, "--install", GPUCTL_BUILD_DIR, "--prefix", prefix},
                            {{"PATH", "/usr/bin:/bin"}, {"HOME", cli.dir().path()}});
  INFO("cmake --install: " << inst.out << inst.err);
  REQUIRE(inst.code == 0);
  namespace fs = std::filesystem;
  CHECK(::access((prefix + "/bin/gpuctl").c_str(), X_OK) == 0);
  CHECK(fs::is_regular_file(prefix + "/lib/gpuctl/libgpuctl-tz.so"));
  CHECK(read_file(prefix + "/share/man/man1/gpuctl.1") == read_file(k_src + "/man/gpuctl.1"));
  CHECK(read_file(prefix + "/share/man/man5/gpuctl.toml.5") == read_file(k_src + "/man/gpuctl.toml.5"));
  for (const auto& page : fs::directory_iterator(k_src + "/man")) {
    if (page.path().extension() == ".5") {
      CHECK(fs::is_regular_file(prefix + "/share/man/man5/" + page.path().filename().string()));
    }
  }
  CHECK(read_file(prefix + "/share/bash-completion/completions/gpuctl") ==
        read_file(k_src + "/completions/gpuctl.bash"));
  CHECK(read_file(prefix + "/share/zsh/vendor-completions/_gpuctl") ==
        read_file(k_src + "/completions/gpuctl.zsh"));
  CHECK(read_file(prefix + "/share/fish/vendor_completions.d/gpuctl.fish") ==
        read_file(k_src + "/completions/gpuctl.fish"));

  // The installed binary, with no build tree on its PATH and no GPUCTL_TZ_PLUGIN.
  auto env = cli.env;
  env["PATH"] = prefix + "/bin:/usr/bin:/bin";
  RunResult v = run_prog({prefix + "/bin/gpuctl", "--version"}, env);
  CHECK(v.code == 0);
  CHECK(v.out.starts_with("gpuctl "));
  RunResult tz = run_prog({prefix + "/bin/gpuctl", "--tz", "Europe/Berlin", "status"}, env);
  INFO("status: " << tz.out << tz.err);
  CHECK(tz.code == 0);

  // Each tool finds its file: man(1) through MANPATH, bash-completion and fish through
  // XDG_DATA_DIRS, zsh through fpath (the #compdef autoload path).
  if (::access("/usr/bin/man", X_OK) == 0) {
    auto menv = env;
    menv["MANPATH"] = prefix + "/share/man";
    RunResult m = run_prog({"man", "-w", "gpuctl"}, menv);
    CHECK(m.out == prefix + "/share/man/man1/gpuctl.1\n");
    RunResult m5 = run_prog({"man", "-w", "5", "gpuctl.toml"}, menv);
    CHECK(m5.out == prefix + "/share/man/man5/gpuctl.toml.5\n");
  }
  auto xenv = env;
  xenv["XDG_DATA_DIRS"] = prefix + "/share";
  // (fish's own config.fish builds the completion path from XDG_DATA_DIRS: no --no-config; HOME
  // is the test's, and gpuctl must be on PATH for fish to load its completions.)
  RunResult f = run_prog({"fish", "-c", "complete -C'gpuctl wor'"}, xenv);
  INFO("fish: " << f.out << f.err);
  CHECK(f.out.starts_with("worker\t"));
  xenv["ZDOTDIR"] = cli.dir() / "home";
  RunResult z = run_prog({"zsh", "-c",
                          "fpath=(" + prefix + "/share/zsh/vendor-completions $fpath); "
                          "autoload -U compinit && compinit -u && [[ ${_comps[gpuctl]} == _gpuctl ]]"},
                         xenv);
  INFO("zsh: " << z.err);
  CHECK(z.code == 0);
  CHECK(z.err.empty());
  // bash-completion's loader (when installed) looks in $XDG_DATA_DIRS/bash-completion/completions.
  if (fs::exists("/usr/share/bash-completion/bash_completion")) {
    RunResult b = run_prog({"bash", "-c",
                            "source /usr/share/bash-completion/bash_completion; "
                            "_completion_loader gpuctl; complete -p gpuctl"},
                           xenv);
    INFO("bash: " << b.err);
    CHECK(b.out == "complete -F _gpuctl gpuctl\n");
  }

  // Without the plug-in in its place only UTC works: the one above was found at ../lib/gpuctl.
  fs::remove(prefix + "/lib/gpuctl/libgpuctl-tz.so");
  RunResult no_tz = run_prog({prefix + "/bin/gpuctl", "--tz", "Europe/Berlin", "status"}, env);
  CHECK(no_tz.code == 2);
  CHECK(no_tz.err.find("libgpuctl-tz.so") != std::string::npos);
}

namespace {

/// Single-quoted for sh.
std::string
sh_quote(const std::string& s)
{
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

/// A tmux server of its own (its own socket name and socket directory), killed at scope exit
/// whatever happens in the test.
class Tmux {
public:
  Tmux(const std::string& dir, int cols, int rows, const std::string& command)
      : m_env{{"PATH", "/usr/bin:/bin"}, {"HOME", dir}, {"TERM", "xterm-256color"},
              {"TMUX_TMPDIR", dir}},
        m_socket("gpuctl-test-" + std::to_string(::getpid()) + "-" + std::to_string(++s_count))
  {
    RunResult r = run({"-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", std::to_string(cols),
                       "-y", std::to_string(rows), command});
    INFO("tmux new-session: " << r.err);
    REQUIRE(r.code == 0);
  }
  ~Tmux() { run({"kill-server"}); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  RunResult run(std::vector<std::string> args) const
  {
    args.insert(args.begin(), {"tmux", "-L", m_socket});
    return run_prog(args, m_env);
  }
  /// The visible pane, as text.
  std::string capture() const { return run({"capture-pane", "-p", "-t", "t"}).out; }
  /// tmux's format variables of the pane ("#{alternate_on}").
  std::string pane(const std::string& format) const
  {
    std::string out = run({"display-message", "-p", "-t", "t", format}).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  /// Polls the pane (every 50 ms, at most `limit_ms`) until `ok(text)`; returns the last text.
  template <typename F>
  std::string wait_for(F&& ok, int limit_ms = 10'000) const
  {
    std::string text;
    for (int waited = 0;; waited += 50) {
      text = capture();
      if (ok(text) || waited >= limit_ms) {
        return text;
      }
      ::usleep(50'000);
    }
  }
  void keys(const std::string& k) const { run({"send-keys", "-t", "t", k}); }

private:
  static inline int s_count = 0;
  std::map<std::string, std::string> m_env;
  std::string m_socket;
};

bool
contains(const std::string& text, const std::string& what)
{
  return text.find(what) != std::string::npos;
}

} // namespace

TEST_CASE("status --watch in tmux: draws the pool, shows a change made by another gpuctl, q and Ctrl-C quit and restore the terminal")
{
  REQUIRE(::access("/usr/bin/tmux", X_OK) == 0); // scripts/setup installs it
  Cli cli;
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "k1", "--account", "alice", "--gpu", "T4"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  cli.ok({"session", "start", "k1", "--at", "2026-11-30T02:00:00Z"});
  // The pane runs a shell that records the terminal's modes, runs the view, and says how it
  // ended and whether the modes came back, then stays (so the pane can be read).
  std::string env_words;
  for (const auto& [k, v] : cli.env) {
    env_words += " " + sh_quote(k + "=" + v);
  }
  const std::string script = cli.dir() / "pane.sh";
  // Ctrl-C signals the whole foreground group: the shell waits it out (`trap :`) and goes on.
  write_file(script, "trap : INT\nbefore=$(stty -g)\n"
                     "env -i" + env_words + " " + sh_quote(GPUCTL_BINARY) +
                     " --db " + sh_quote(cli.db_path()) + " status --watch --interval 1s\n"
                     "rc=$?\n"
                     "[ \"$(stty -g)\" = \"$before\" ] && echo 'TTY MODES RESTORED'\n"
                     "echo \"DONE rc=$rc\"\n"
                     "sleep 60\n");
  for (const std::string quit : {"q", "C-c"}) {
    INFO("quit with " << quit);
    Tmux tmux(cli.dir().path(), 120, 40, "sh " + sh_quote(script));
    std::string text = tmux.wait_for([](const std::string& t) { return contains(t, "SESSIONS"); });
    INFO("pane:\n" << text);
    REQUIRE(contains(text, "gpuctl status"));
    CHECK(contains(text, "2 total: 1 offline, 1 online"));
    CHECK(contains(text, "QUOTA (2 accounts)"));
    CHECK(contains(text, "alice"));
    CHECK(contains(text, "SESSIONS (1 open)"));
    CHECK(contains(text, "k1"));
    CHECK(contains(text, "JOBS (0 running)"));
    CHECK(contains(text, "HIBERNATED (0)"));
    CHECK(contains(text, "q or Ctrl-C quits"));
    CHECK(tmux.pane("#{alternate_on} #{cursor_flag}") == "1 0"); // alternate screen, no cursor

    // Another gpuctl changes the state file: the next frame shows it.
    cli.ok({"worker", "add", "w2", "--account", "lab", "--host", "u@h2"});
    cli.ok({"session", "start", "w1"});
    text = tmux.wait_for([](const std::string& t) {
      return contains(t, "3 total") && contains(t, "SESSIONS (2 open)");
    });
    INFO("pane after the change:\n" << text);
    CHECK(contains(text, "3 total: 1 offline, 2 online"));
    CHECK(contains(text, "SESSIONS (2 open)"));
    CHECK(contains(text, "w1"));

    tmux.keys(quit);
    text = tmux.wait_for([](const std::string& t) { return contains(t, "DONE"); });
    INFO("pane after quitting:\n" << text);
    CHECK(contains(text, "DONE rc=0"));
    CHECK(contains(text, "TTY MODES RESTORED"));
    CHECK(!contains(text, "gpuctl status")); // the dashboard was on the alternate screen
    CHECK(!contains(text, "QUOTA"));
    CHECK(tmux.pane("#{alternate_on} #{cursor_flag}") == "0 1");
    // Back to the state before the next round.
    cli.ok({"session", "stop", "w1"});
    cli.ok({"worker", "rm", "w2"});
  }
}

TEST_CASE("status --watch off a terminal: plain frames each interval, JSON lines with --json, exit 0 on SIGINT")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  auto env = cli.env;
  // SIGINT after 2.5 s: frames at 0, 1 and 2 s; --preserve-status gives gpuctl's own exit code.
  RunResult r = run_prog({"timeout", "--preserve-status", "-s", "INT", "2.5", GPUCTL_BINARY,
                          "status", "--watch", "--interval", "1s"},
                         env);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find('\x1b') == std::string::npos);
  size_t frames = 0;
  for (const auto& line : lines_of(r.out)) {
    frames += line.starts_with("gpuctl status  2026-11-30 08:00:00 UTC") ? 1 : 0;
  }
  CHECK(frames >= 2);
  CHECK(frames <= 4);
  CHECK(contains(r.out, "workers   1 total: 1 offline, 1 enabled"));
  CHECK(contains(r.out, "QUOTA (1 accounts)"));

  RunResult j = run_prog({"timeout", "--preserve-status", "-s", "TERM", "1.5", GPUCTL_BINARY,
                          "--json", "status", "--watch", "--interval", "1s"},
                         env);
  INFO("json:\n" << j.out << j.err);
  CHECK(j.code == 0);
  auto docs = lines_of(j.out);
  CHECK(docs.size() >= 1);
  CHECK(docs.size() <= 3);
  for (const auto& line : docs) {
    auto doc = nlohmann::json::parse(line);
    CHECK(doc["workers"]["total"] == 1);
    CHECK(doc["at"] == "2026-11-30T08:00:00Z");
    CHECK(doc["accounts"]["safe"] == 1);
  }
}

TEST_CASE("status --interval: a DESIGN duration of at least 1s, with --watch only, else exit 2")
{
  Cli cli;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", "--interval", "5s"},
           {"status", "--watch", "--interval", "5"},
           {"status", "--watch", "--interval", "0s"},
           {"status", "--watch", "--interval", "-1s"},
           {"status", "--watch", "--interval", ""}}) {
    RunResult r = cli.run(args);
    INFO(join(args, " ") << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("gpuctl: error: "));
    CHECK(lines_of(r.err).size() == 1);
  }
  CHECK(!std::filesystem::exists(cli.db_path()));
}

TEST_CASE("__complete: job ids with their names, strategies from the planner, zones, and a missing state file stays missing")
{
  Cli cli;
  // No state file: empty answers, exit 0, nothing created.
  for (const char* kind : {"accounts", "workers", "jobs"}) {
    RunResult r = cli.run({"__complete", kind});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
  }
  CHECK(!std::filesystem::exists(cli.db_path()));
  CHECK(!std::filesystem::exists(std::filesystem::path(cli.db_path()).parent_path()));
  CHECK(cli.ok({"__complete", "strategies"}).out == "24x7\nburst\neconomy\n");
  CHECK(cli.ok({"__complete", "providers"}).out == "kaggle\ncolab\nvast\nssh\n");
  auto zones = lines_of(cli.ok({"__complete", "zones"}).out);
  std::set<std::string> zset(zones.begin(), zones.end());
  CHECK(zset.count("Europe/Berlin") == 1);
  CHECK(zset.count("America/New_York") == 1);
  CHECK(zset.count("UTC") == 1);
  CHECK(zones.size() > 300);
  CHECK(std::is_sorted(zones.begin(), zones.end()));
  // Every zone offered is one --tz accepts (a sample across the list).
  for (size_t i = 0; i < zones.size(); i += zones.size() / 7) {
    RunResult r = cli.run({"--tz", zones[i], "config", "path"});
    INFO("--tz " << zones[i] << ": " << r.err);
    CHECK(r.code == 0);
  }
  RunResult bad = cli.run({"__complete", "nonsense"});
  CHECK(bad.code == 2);

  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  cli.ok({"job", "submit", "--worker", "w1", "--name", "train", "--command", "true"});
  cli.ok({"job", "submit", "--worker", "w1", "--name", "eval", "--command", "true"});
  CHECK(cli.ok({"__complete", "jobs"}).out == "2\teval (queued)\n1\ttrain (queued)\n");
}

TEST_CASE("bash completion: job ids, --strategy from the planner, --tz zones one level at a time")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "w1", "--account", "lab", "--host", "u@h"});
  cli.ok({"job", "submit", "--worker", "w1", "--name", "train", "--command", "true"});
  cli.ok({"job", "submit", "--worker", "w1", "--name", "eval", "--command", "true"});
  auto complete = [&](const std::string& line) { return bash_complete(cli.env, line); };
  CHECK(complete("gpuctl job show ") == std::set<std::string>{"1", "2"});
  CHECK(complete("gpuctl job cancel ") == std::set<std::string>{"1", "2"});
  CHECK(complete("gpuctl job logs 2") == std::set<std::string>{"2"});
  CHECK(complete("gpuctl events --job ") == std::set<std::string>{"1", "2"});
  CHECK(complete("gpuctl schedule --strategy ") == std::set<std::string>{"24x7", "burst", "economy"});
  CHECK(complete("gpuctl schedule --strategy b") == std::set<std::string>{"burst"});
  auto be = complete("gpuctl --tz Europe/Be");
  CHECK(be.count("Europe/Berlin") == 1);
  CHECK(be.count("Europe/Belgrade") == 1);
  for (const auto& z : be) {
    CHECK(z.starts_with("Europe/Be"));
  }
  CHECK(complete("gpuctl --tz Europe/Berl") == std::set<std::string>{"Europe/Berlin"});
  auto top = complete("gpuctl --tz Eu");
  CHECK(top == std::set<std::string>{"Europe/"});
  CHECK(complete("gpuctl hibernate schedule w1 --tz America/New_") == std::set<std::string>{"America/New_York"});
  CHECK(complete("gpuctl status --") == std::set<std::string>{"--watch", "--interval", "--db", "--config",
                                                               "--json", "--quiet", "--no-color", "--tz",
                                                               "--verbose", "--version", "--help"});
}
