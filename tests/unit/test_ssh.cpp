// SPDX-License-Identifier: MIT
// The ssh back end: target parsing, quoting (checked by a real sh), the ssh argv, nvidia-smi
// parsing, the process runner, and end to end against a real OpenSSH server (support/sshd.hpp).
#include "gpuctl/core/error.hpp"
#include "gpuctl/providers/ssh/client.hpp"
#include "gpuctl/providers/ssh/process.hpp"
#include "support/sshd.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

using namespace gpuctl;
namespace ssh = gpuctl::providers::ssh;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

/// Records every argv and answers with a canned result.
class RecordingRunner final : public ssh::Runner {
public:
  ssh::ProcessResult run(const std::vector<std::string>& argv, milliseconds timeout,
                         const std::string& stdin_data) override
  {
    calls.push_back(argv);
    timeouts.push_back(timeout);
    stdins.push_back(stdin_data);
    return answer;
  }
  ssh::ProcessResult answer;
  std::vector<std::vector<std::string>> calls;
  std::vector<milliseconds> timeouts;
  std::vector<std::string> stdins;
};

ErrorKind
kind_of(const std::function<void()>& f)
{
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no gpuctl::Error thrown");
  return ErrorKind::failure;
}

bool
contains(const std::vector<std::string>& v, const std::string& s)
{
  return std::find(v.begin(), v.end(), s) != v.end();
}

/// The word right after `flag` in argv, or "" when absent.
std::string
after(const std::vector<std::string>& v, const std::string& flag)
{
  auto it = std::find(v.begin(), v.end(), flag);
  return it == v.end() || it + 1 == v.end() ? "" : *(it + 1);
}

/// One real sshd plus a client configured for it; jobs live in the default ~/.gpuctl/jobs, with
/// HOME in the sshd's temp dir.
struct Rig {
  test::Sshd sshd;
  std::unique_ptr<ssh::Runner> runner = ssh::make_process_runner();
  ssh::Options opts;
  ssh::Target target;
  std::unique_ptr<ssh::Client> client;
  Rig()
  {
    opts.config_file = sshd.config_file();
    opts.connect_timeout_s = 5;
    opts.command_timeout = milliseconds(15000);
    opts.kill_grace = milliseconds(1000);
    target = ssh::parse_target(sshd.target());
    client = std::make_unique<ssh::Client>(*runner, opts);
  }
  /// Polls status() every 100 ms until the job exited; fails after `limit`.
  ssh::RunStatus wait_exited(const std::string& key, milliseconds limit = milliseconds(10000))
  {
    auto until = Clock::now() + limit;
    for (;;) {
      auto s = client->status(target, key);
      if (s.state == ssh::RunState::exited) {
        return s;
      }
      if (Clock::now() > until) {
        FAIL("job " << key << " still not exited after " << limit.count() << " ms; log:\n"
                    << client->log(target, key));
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
};

} // namespace

TEST_CASE("ssh parse_target accepts host, user@host, ports and bracketed IPv6")
{
  auto t = ssh::parse_target("gpu1");
  CHECK(t.user == "");
  CHECK(t.host == "gpu1");
  CHECK(t.port == 22);

  t = ssh::parse_target("alice@gpu1.example.org");
  CHECK(t.user == "alice");
  CHECK(t.host == "gpu1.example.org");
  CHECK(t.port == 22);

  t = ssh::parse_target("root@10.0.0.7:2222");
  CHECK(t.user == "root");
  CHECK(t.host == "10.0.0.7");
  CHECK(t.port == 2222);

  t = ssh::parse_target("user@[::1]:2222");
  CHECK(t.user == "user");
  CHECK(t.host == "::1");
  CHECK(t.port == 2222);
  CHECK(ssh::to_string(t) == "user@[::1]:2222");

  t = ssh::parse_target("[fe80::1%eth0]");
  CHECK(t.host == "fe80::1%eth0");
  CHECK(t.port == 22);

  t = ssh::parse_target("host:65535");
  CHECK(t.port == 65535);
  CHECK(ssh::to_string(t) == "host:65535");
  CHECK(ssh::to_string(ssh::parse_target("a_b@h-1:1")) == "a_b@h-1:1");
}

TEST_CASE("ssh parse_target rejects malformed values with a usage error naming them")
{
  for (const std::string& bad : std::vector<std::string>{"", "@host", "user@", "user@:22", "host:", "host:0", "host:65536", "host:22x", "host:-1",
        "a b", "user@host name", "-oProxyCommand=x", "user@-host", "-l@host", "host\n",
        std::string("ho\tst"), std::string("ho\x01st"), "a@b@c", "[::1", "[]:22", "[::1]x",
        "[::1]:", "host:1:2:zz", "us/er@host", "host/x", "ho;st", "$(x)"}) {
    CAPTURE(bad);
    try {
      ssh::parse_target(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("invalid host") != std::string::npos);
    }
  }
  try {
    ssh::parse_target("bad host");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("'bad host'") != std::string::npos);
  }
}

TEST_CASE("ssh shell_quote round trips nasty words through a real sh")
{
  CHECK(ssh::shell_quote("a b") == "'a b'");
  CHECK(ssh::shell_quote("it's") == "'it'\\''s'");
  CHECK(ssh::shell_quote("") == "''");
  CHECK(ssh::shell_quote("plain-word_1.2/x") == "plain-word_1.2/x");
  CHECK(ssh::shell_quote("A=b") == "'A=b'"); // never an assignment
  CHECK(ssh::shell_quote("~") == "'~'");
  CHECK(kind_of([] { ssh::shell_quote(std::string("a\0b", 3)); }) == ErrorKind::usage);

  const std::vector<std::string> words{
      "a b",          "it's",         "say \"hi\"", "$(touch /nonexistent/pwned)", "`id`",
      "back\\slash",  "two\nlines",   "*",          "~",                           "-n",
      "",             "ünï ✓ 日本",   "a;b|c&d",    "$HOME",                       "'",
      "''",           "\\'",          "tab\there",  "{a,b}",                       "!x",
      "#comment",     "trailing\\",   "%s",         "-",                           "--"};
  auto runner = ssh::make_process_runner();
  // The quoted line is parsed by a shell exactly as the remote login shell would.
  std::string line = "printf '%s\\n' " + ssh::shell_join(words);
  auto r = runner->run({"sh", "-c", line}, milliseconds(5000));
  REQUIRE(r.exit_code == 0);
  std::string expected;
  for (const auto& w : words) {
    expected += w + "\n";
  }
  CHECK(r.out == expected);
  // Each word on its own, too.
  for (const auto& w : words) {
    CAPTURE(w);
    auto one = runner->run({"sh", "-c", "printf '%s' " + ssh::shell_quote(w)}, milliseconds(5000));
    CHECK(one.out == w);
  }
}

TEST_CASE("ssh ssh_argv carries BatchMode, ConnectTimeout, port, identity and config")
{
  RecordingRunner rec;
  ssh::Options o;
  o.connect_timeout_s = 7;
  ssh::Client plain(rec, o);
  auto t = ssh::parse_target("alice@gpu1:2200");
  auto argv = plain.ssh_argv(t, "echo hi");
  CHECK(argv.front() == "ssh");
  CHECK(after(argv, "-o") == "BatchMode=yes");
  CHECK(contains(argv, "ConnectTimeout=7"));
  CHECK(after(argv, "-p") == "2200");
  CHECK(after(argv, "-l") == "alice");
  CHECK_FALSE(contains(argv, "-F"));
  CHECK_FALSE(contains(argv, "-i"));
  // `--`, then the destination, then the command as ONE word.
  REQUIRE(argv.size() >= 3);
  CHECK(argv[argv.size() - 3] == "--");
  CHECK(argv[argv.size() - 2] == "gpu1");
  CHECK(argv.back() == "echo hi");
  for (const auto& w : argv) {
    std::string lower = w;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    CHECK(lower.find("stricthostkeychecking") == std::string::npos);
    CHECK(lower.find("password") == std::string::npos);
  }

  o.config_file = "/tmp/cfg file";
  o.ssh = "/opt/ssh";
  ssh::Client configured(rec, o);
  t.identity = "/home/a/.ssh/id_gpu";
  t.user = "";
  argv = configured.ssh_argv(t, "true");
  CHECK(argv.front() == "/opt/ssh");
  CHECK(after(argv, "-F") == "/tmp/cfg file");
  CHECK(after(argv, "-i") == "/home/a/.ssh/id_gpu");
  CHECK_FALSE(contains(argv, "-l"));
  // Options before the destination.
  auto dash = std::find(argv.begin(), argv.end(), "--");
  CHECK(std::find(argv.begin(), dash, "-i") != dash);
}

TEST_CASE("ssh probe parses nvidia-smi through a recording runner")
{
  RecordingRunner rec;
  ssh::Client client(rec, ssh::Options{});
  auto t = ssh::parse_target("gpu1");

  rec.answer = {0, false, false, "37 %, 1234 MiB\n63 %, 766 MiB\n", ""};
  auto p = client.probe(t);
  CHECK(p.online);
  CHECK(p.gpus == 2);
  REQUIRE(p.gpu_util);
  CHECK(*p.gpu_util == doctest::Approx(50));
  REQUIRE(p.memory_used_mib);
  CHECK(*p.memory_used_mib == doctest::Approx(2000));
  CHECK(p.error.empty());
  REQUIRE(rec.calls.size() == 1);
  CHECK(rec.calls[0].back() ==
        "nvidia-smi '--query-gpu=utilization.gpu,memory.used' '--format=csv,noheader'");

  rec.answer = {0, false, false, "12, 100\r\n[N/A], [N/A]\n", ""}; // nounits, one GPU without data
  p = client.probe(t);
  CHECK(p.online);
  CHECK(p.gpus == 2);
  CHECK(*p.gpu_util == doctest::Approx(12));
  CHECK(*p.memory_used_mib == doctest::Approx(100));

  rec.answer = {0, false, false, "[N/A], [Not Supported]\n", ""};
  p = client.probe(t);
  CHECK(p.online);
  CHECK(p.gpus == 1);
  CHECK_FALSE(p.gpu_util);
  CHECK_FALSE(p.memory_used_mib);

  rec.answer = {255, false, false, "",
                "ssh: connect to host gpu1 port 22: Connection refused\n"};
  p = client.probe(t);
  CHECK_FALSE(p.online);
  CHECK(p.error == "ssh: connect to host gpu1 port 22: Connection refused");

  rec.answer = {9, false, false, "",
                "NVIDIA-SMI has failed because it couldn't communicate with the driver.\n\n"};
  p = client.probe(t);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("nvidia-smi failed (exit 9)") == 0);
  CHECK(p.error.find("couldn't communicate") != std::string::npos);
  CHECK(p.error.find('\n') == std::string::npos);

  rec.answer = {-1, true, false, "", ""};
  p = client.probe(t);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("timed out") != std::string::npos);

  rec.answer = {0, false, false, "No devices were found\n", ""};
  p = client.probe(t);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("No devices were found") != std::string::npos);

  rec.answer = {-1, false, true, "", ""};
  CHECK(kind_of([&] { client.probe(t); }) == ErrorKind::interrupted);
}

TEST_CASE("ssh client rejects bad keys, env names and empty jobs before calling ssh")
{
  RecordingRunner rec;
  ssh::Client client(rec, ssh::Options{});
  auto t = ssh::parse_target("gpu1");
  ssh::RemoteJob job;
  job.argv = {"true"};
  for (const std::string& key : std::vector<std::string>{"", "Upper", "a b", "../x", "a/b", "a_b", "x;y"}) {
    job.key = key;
    CHECK(kind_of([&] { client.launch(t, job); }) == ErrorKind::usage);
    CHECK(kind_of([&] { client.status(t, key); }) == ErrorKind::usage);
  }
  job.key = "ok-1";
  job.env = {{"1BAD", "x"}};
  CHECK(kind_of([&] { client.launch(t, job); }) == ErrorKind::usage);
  job.env = {{"A-B", "x"}};
  CHECK(kind_of([&] { client.launch(t, job); }) == ErrorKind::usage);
  job.env = {};
  job.argv = {};
  CHECK(kind_of([&] { client.launch(t, job); }) == ErrorKind::usage);
  job.argv = {"true"};
  job.input_dir = "/nonexistent/input";
  CHECK(kind_of([&] { client.launch(t, job); }) == ErrorKind::usage);
  CHECK(kind_of([&] { client.log(t, "ok-1", -1); }) == ErrorKind::usage);
  CHECK(rec.calls.empty());

  // An unreachable host is a provider error naming it.
  rec.answer = {255, false, false, "", "ssh: Could not resolve hostname gpu1: Name or service not known\n"};
  try {
    client.status(t, "ok-1");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::provider);
    CHECK(std::string(e.what()).find("gpu1:22") != std::string::npos);
    CHECK(std::string(e.what()).find("Could not resolve hostname") != std::string::npos);
  }
}

TEST_CASE("ssh process runner captures output, feeds stdin and reports exit codes")
{
  auto runner = ssh::make_process_runner();
  auto r = runner->run({"sh", "-c", "echo out; echo err >&2; exit 3"}, milliseconds(5000));
  CHECK(r.exit_code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK_FALSE(r.timed_out);
  CHECK_FALSE(r.interrupted);

  std::string big(3 * 1024 * 1024 + 7, 'x');
  big[5] = '\0';
  r = runner->run({"cat"}, milliseconds(10000), big);
  CHECK(r.exit_code == 0);
  CHECK(r.out == big);

  // A child that exits without reading its stdin must not kill gpuctl with SIGPIPE.
  r = runner->run({"true"}, milliseconds(5000), big);
  CHECK(r.exit_code == 0);

  r = runner->run({"gpuctl-no-such-program"}, milliseconds(5000));
  CHECK(r.exit_code == 127);
  CHECK(r.err.find("gpuctl-no-such-program") != std::string::npos);

  r = runner->run({"sh", "-c", "kill -s KILL $$"}, milliseconds(5000));
  CHECK(r.exit_code == 128 + 9);

  // stdin is /dev/null when no data is given (cat ends at once).
  r = runner->run({"cat"}, milliseconds(5000));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("ssh process runner timeout stops a sleeping child quickly")
{
  auto runner = ssh::make_process_runner();
  auto start = Clock::now();
  auto r = runner->run({"sleep", "5"}, milliseconds(200));
  auto took = Clock::now() - start;
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + 15);
  CHECK(took < milliseconds(1500));

  // A grandchild holding the pipes open is stopped with its group.
  start = Clock::now();
  r = runner->run({"sh", "-c", "sleep 5; echo never"}, milliseconds(200));
  CHECK(r.timed_out);
  CHECK(r.out.empty());
  CHECK(Clock::now() - start < milliseconds(1500));

  // A child that exits while a background grandchild keeps stdout open returns at its exit.
  start = Clock::now();
  r = runner->run({"sh", "-c", "sleep 3 & echo hi"}, milliseconds(10000));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hi\n");
  CHECK(Clock::now() - start < milliseconds(1500));
}

// ---- End to end against a real OpenSSH server ---------------------------------------------

TEST_CASE("ssh e2e probe: online from nvidia-smi, closed port and host key mismatch offline")
{
  Rig rig;
  rig.sshd.set_nvidia_smi("37 %, 1234 MiB\n63 %, 100 MiB\n");
  auto p = rig.client->probe(rig.target);
  INFO("error: " << p.error << "\nsshd log:\n" << rig.sshd.log());
  CHECK(p.online);
  CHECK(p.gpus == 2);
  REQUIRE(p.gpu_util);
  CHECK(*p.gpu_util == doctest::Approx(50));
  CHECK(*p.memory_used_mib == doctest::Approx(1334));
  CHECK(test::read_file(rig.sshd.dir() + "/bin/nvidia-smi.args") ==
        "--query-gpu=utilization.gpu,memory.used\n--format=csv,noheader\n");

  // nvidia-smi failing on the host: offline with its reason.
  rig.sshd.set_nvidia_smi("", 9);
  p = rig.client->probe(rig.target);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("nvidia-smi failed (exit 9)") == 0);

  // Nothing listening: offline at once, one line.
  auto closed = rig.target;
  closed.port = rig.sshd.port() == 1 ? 2 : 1;
  auto start = Clock::now();
  p = rig.client->probe(closed);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("refused") != std::string::npos);
  CHECK(p.error.find('\n') == std::string::npos);
  CHECK(Clock::now() - start < milliseconds(3000));

  // A host key that does not match known_hosts is refused.
  auto opts = rig.opts;
  opts.config_file = rig.sshd.config_file_with_wrong_host_key();
  ssh::Client wrong(*rig.runner, opts);
  rig.sshd.set_nvidia_smi("1 %, 1 MiB\n");
  p = wrong.probe(rig.target);
  CHECK_FALSE(p.online);
  CHECK(p.error.find("Host key verification failed") != std::string::npos);
  CHECK(kind_of([&] { wrong.status(rig.target, "k"); }) == ErrorKind::provider);
}

TEST_CASE("ssh e2e launch runs nasty argv verbatim once, with input up and output down")
{
  Rig rig;
  const std::string pwned = rig.sshd.dir() + "/pwned";
  const std::vector<std::string> words{"a b",
                                       "it's",
                                       "say \"hi\"",
                                       "$(touch " + pwned + ")",
                                       "`touch " + pwned + "-bt`",
                                       "x; touch " + pwned + "-semi",
                                       "*",
                                       "two\nlines",
                                       "",
                                       "-n",
                                       "back\\slash $HOME ~",
                                       "ünï ✓"};
  test::TempDir local;
  std::filesystem::create_directories(local / "in/sub");
  test::write_file(local / "in/in.txt", "hello input\n");
  test::write_file(local / "in/sub/deep.txt", "deep\n");

  ssh::RemoteJob job;
  job.key = "job-1";
  job.input_dir = local / "in";
  job.argv = {"sh", "-c",
              "echo run >> \"$GPUCTL_OUTPUT_DIR/runs\"\n"
              "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$GPUCTL_OUTPUT_DIR/args.txt\"\n"
              "cat \"$GPUCTL_INPUT_DIR/in.txt\" \"$GPUCTL_INPUT_DIR/sub/deep.txt\" > "
              "\"$GPUCTL_OUTPUT_DIR/copied.txt\"\n"
              "printf '%s|%s\\n' \"$GPUCTL_JOB_KEY\" \"$(pwd)\" > \"$GPUCTL_OUTPUT_DIR/where.txt\"\n"
              "echo job-done; echo to-stderr >&2",
              "sh"};
  job.argv.insert(job.argv.end(), words.begin(), words.end());

  CHECK(rig.client->status(rig.target, "job-1").state == ssh::RunState::absent);
  REQUIRE(rig.client->launch(rig.target, job));
  auto s = rig.wait_exited("job-1");
  CHECK(s.exit_code == 0);

  // Same key again: nothing happens.
  CHECK_FALSE(rig.client->launch(rig.target, job));

  auto out = local / "fetched/output";
  rig.client->fetch_output(rig.target, "job-1", out);
  std::string expected;
  for (const auto& w : words) {
    expected += w + "\n";
  }
  CHECK(test::read_file(out + "/args.txt") == expected);
  CHECK(test::read_file(out + "/copied.txt") == "hello input\ndeep\n");
  CHECK(test::read_file(out + "/runs") == "run\n");
  CHECK(test::read_file(out + "/where.txt") == "job-1|" + rig.sshd.home() + "/.gpuctl/jobs/job-1\n");
  CHECK(test::read_file(local / "fetched/log") == "job-done\nto-stderr\n");
  CHECK_FALSE(std::filesystem::exists(pwned));
  CHECK_FALSE(std::filesystem::exists(pwned + "-bt"));
  CHECK_FALSE(std::filesystem::exists(pwned + "-semi"));

  CHECK(rig.client->log(rig.target, "job-1") == "job-done\nto-stderr\n");
  CHECK(rig.client->log(rig.target, "job-1", 4) == "done\nto-stderr\n");
  CHECK(rig.client->log(rig.target, "job-1", 1000).empty());
  CHECK(rig.client->log(rig.target, "no-such-job").empty());
  CHECK(kind_of([&] { rig.client->fetch_output(rig.target, "no-such-job", local / "x/output"); }) ==
        ErrorKind::provider);
  // Nothing left behind locally but what was asked for.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(local / "fetched")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"log", "output"});
}

TEST_CASE("ssh e2e script jobs, env, timeout, kill and exit codes")
{
  Rig rig;
  test::TempDir local;

  ssh::RemoteJob timed;
  timed.key = "timeout-1";
  timed.argv = {"sleep", "30"};
  timed.timeout_s = 1;
  auto timed_start = Clock::now();
  REQUIRE(rig.client->launch(rig.target, timed));

  // A script without a shebang runs under sh, with its arguments and extra environment.
  test::write_file(local / "job.sh",
                   "echo \"args: $*\" > \"$GPUCTL_OUTPUT_DIR/s.txt\"\n"
                   "echo \"env: $MY_VAR\" >> \"$GPUCTL_OUTPUT_DIR/s.txt\"\n");
  ssh::RemoteJob script;
  script.key = "script-1";
  script.script_file = local / "job.sh";
  script.argv = {"a b", "c"};
  script.env = {{"MY_VAR", "it's $HOME `x`"}};
  REQUIRE(rig.client->launch(rig.target, script));

  // One with a shebang is run directly.
  test::write_file(local / "seven", "#!/bin/sh\necho seven\nexit 7\n");
  ssh::RemoteJob shebang;
  shebang.key = "script-2";
  shebang.script_file = local / "seven";
  REQUIRE(rig.client->launch(rig.target, shebang));

  ssh::RemoteJob failing;
  failing.key = "fail-3";
  failing.argv = {"sh", "-c", "exit 3"};
  REQUIRE(rig.client->launch(rig.target, failing));

  ssh::RemoteJob victim;
  victim.key = "kill-1";
  victim.argv = {"sh", "-c", "sleep 30; echo survived > \"$GPUCTL_OUTPUT_DIR/x\""};
  REQUIRE(rig.client->launch(rig.target, victim));
  CHECK(rig.client->status(rig.target, "kill-1").state == ssh::RunState::running);
  auto kill_start = Clock::now();
  rig.client->kill(rig.target, "kill-1");
  CHECK(Clock::now() - kill_start < milliseconds(4000));
  auto ks = rig.client->status(rig.target, "kill-1");
  CHECK(ks.state == ssh::RunState::exited);
  CHECK(ks.exit_code == 128 + 15);
  rig.client->kill(rig.target, "kill-1");      // no-op once ended
  rig.client->kill(rig.target, "never-there"); // and for an unknown key

  auto s = rig.wait_exited("script-1");
  CHECK(s.exit_code == 0);
  rig.client->fetch_output(rig.target, "script-1", local / "s1/output");
  CHECK(test::read_file(local / "s1/output/s.txt") == "args: a b c\nenv: it's $HOME `x`\n");

  s = rig.wait_exited("script-2");
  CHECK(s.exit_code == 7);
  CHECK(rig.client->log(rig.target, "script-2") == "seven\n");

  s = rig.wait_exited("fail-3");
  CHECK(s.exit_code == 3);

  s = rig.wait_exited("timeout-1");
  CHECK(s.exit_code == 124);
  CHECK(Clock::now() - timed_start < milliseconds(8000));
  // Killed after 1 s, not after 30: the log's mtime vs. the start marker would say the same.
  CHECK(rig.client->log(rig.target, "timeout-1").empty());
}
