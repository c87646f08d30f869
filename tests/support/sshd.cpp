// SPDX-License-Identifier: MIT
#include "support/sshd.hpp"

#include "gpuctl/providers/ssh/process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace gpuctl::test {

namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr const char* kSftpServer = "/usr/lib/openssh/sftp-server";

std::string
run_ok(const std::vector<std::string>& argv)
{
  auto runner = providers::ssh::make_process_runner();
  auto r = runner->run(argv, std::chrono::seconds(20));
  if (r.exit_code != 0) {
    throw std::runtime_error("Sshd: " + argv[0] + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.err);
  }
  return r.out;
}

int
free_port()
{
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (s >= 0) {
      ::close(s);
    }
    throw std::runtime_error(std::string("Sshd: no free port: ") + std::strerror(errno));
  }
  ::close(s);
  return ntohs(a.sin_port);
}

bool
port_accepts(int port)
{
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = s >= 0 && ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (s >= 0) {
    ::close(s);
  }
  return ok;
}

/// "TYPE BASE64" of a .pub file (no comment).
std::string
pubkey(const std::string& path)
{
  std::string text = read_file(path);
  auto sp1 = text.find(' ');
  auto sp2 = sp1 == std::string::npos ? std::string::npos : text.find_first_of(" \n", sp1 + 1);
  if (sp2 == std::string::npos) {
    throw std::runtime_error("Sshd: cannot read public key " + path);
  }
  return text.substr(0, sp2);
}

void
keygen(const std::string& path)
{
  run_ok({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpuctl-test", "-f", path});
}

std::string
client_config(const std::string& dir, const std::string& known_hosts)
{
  return "Host *\n"
         "  UserKnownHostsFile " + known_hosts + "\n"
         "  GlobalKnownHostsFile /dev/null\n"
         "  IdentityFile " + dir + "/client_key\n"
         "  IdentitiesOnly yes\n"
         "  StrictHostKeyChecking yes\n"
         "  PasswordAuthentication no\n"
         "  KbdInteractiveAuthentication no\n"
         "  LogLevel ERROR\n"
         // The classic exchange: the default post-quantum one costs ~0.1 s per connection here.
         "  KexAlgorithms curve25519-sha256\n";
}

} // namespace

Sshd::Sshd()
{
  if (::access(kSshd, X_OK) != 0) {
    throw std::runtime_error(
        std::string("Sshd: ") + kSshd +
        " is missing: install Debian's openssh-server (scripts/setup does; or apt-get install -y "
        "--no-install-recommends openssh-server) to run the ssh end-to-end tests");
  }
  const passwd* pw = ::getpwuid(::geteuid());
  if (pw == nullptr) {
    throw std::runtime_error("Sshd: the current user has no passwd entry");
  }
  m_user = pw->pw_name;
  const std::string d = m_dir.path();
  std::filesystem::create_directories(d + "/bin");
  std::filesystem::create_directories(d + "/home");
  keygen(d + "/host_key");
  keygen(d + "/client_key");
  keygen(d + "/other_host_key");
  write_file(d + "/authorized_keys", pubkey(d + "/client_key.pub") + "\n");
  set_nvidia_smi("0 %, 0 MiB\n");
  if (::geteuid() == 0) {
    // sshd running as root insists on its privilege separation directory.
    std::error_code ec;
    std::filesystem::create_directories("/run/sshd", ec);
  }

  m_port = free_port();
  std::string config = "ListenAddress 127.0.0.1\n"
                       "Port " + std::to_string(m_port) + "\n"
                       "HostKey " + d + "/host_key\n"
                       "AuthorizedKeysFile " + d + "/authorized_keys\n"
                       "PubkeyAuthentication yes\n"
                       "PasswordAuthentication no\n"
                       "KbdInteractiveAuthentication no\n"
                       "UsePAM no\n"
                       "StrictModes no\n"
                       "PidFile " + d + "/sshd.pid\n"
                       "AllowUsers " + m_user + "\n"
                       "PermitRootLogin prohibit-password\n"
                       // Its own HOME: no ~/.bashrc of the real user slows down or changes
                       // each session, and ~/.gpuctl stays inside the temp dir.
                       "SetEnv HOME=" + d + "/home PATH=" + d + "/bin:/usr/bin:/bin\n"
                       "Subsystem sftp " + kSftpServer + "\n"
                       "LogLevel INFO\n";
  write_file(d + "/sshd_config", config);
  write_file(d + "/known_hosts",
             "[127.0.0.1]:" + std::to_string(m_port) + " " + pubkey(d + "/host_key.pub") + "\n");
  write_file(d + "/ssh_config", client_config(d, d + "/known_hosts"));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::string logpath = d + "/sshd.log";
  posix_spawn_file_actions_addopen(&fa, 1, logpath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<std::string> args{kSshd, "-D", "-e", "-f", d + "/sshd_config"};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, kSshd, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw std::runtime_error(std::string("Sshd: cannot start sshd: ") + std::strerror(rc));
  }
  m_pid = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!port_accepts(m_port)) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("Sshd: sshd exited at start:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("Sshd: sshd did not accept connections within 10 s:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Sshd::~Sshd()
{
  if (m_pid <= 0) {
    return;
  }
  ::kill(m_pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(m_pid, SIGKILL);
  int status = 0;
  ::waitpid(m_pid, &status, 0);
}

std::string
Sshd::target() const
{
  return m_user + "@127.0.0.1:" + std::to_string(m_port);
}

std::string
Sshd::config_file_with_wrong_host_key()
{
  const std::string d = m_dir.path();
  write_file(d + "/known_hosts_wrong",
             "[127.0.0.1]:" + std::to_string(m_port) + " " + pubkey(d + "/other_host_key.pub") +
                 "\n");
  write_file(d + "/ssh_config_wrong", client_config(d, d + "/known_hosts_wrong"));
  return d + "/ssh_config_wrong";
}

void
Sshd::set_nvidia_smi(const std::string& stdout_text, int exit_code)
{
  const std::string bin = m_dir.path() + "/bin";
  write_file(bin + "/nvidia-smi.out", stdout_text);
  write_file(bin + "/nvidia-smi",
             "#!/bin/sh\n"
             "printf '%s\\n' \"$@\" >> '" + bin + "/nvidia-smi.args'\n"
             "cat '" + bin + "/nvidia-smi.out'\n"
             "exit " + std::to_string(exit_code) + "\n");
  ::chmod((bin + "/nvidia-smi").c_str(), 0755);
}

std::string
Sshd::log() const
{
  return read_file(m_dir.path() + "/sshd.log");
}

} // namespace gpuctl::test
