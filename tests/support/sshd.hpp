// SPDX-License-Identifier: MIT
// A real OpenSSH server for a test: throwaway host and client keys, its own config, a free port
// on 127.0.0.1, logins as the current user only with the generated key, HOME set to a temp dir,
// and a fake nvidia-smi on the remote PATH. Needs Debian's openssh-server (scripts/setup installs it); without
// /usr/sbin/sshd the constructor throws, so the test fails with that message instead of being
// skipped.
#pragma once
#include "support/support.hpp"

#include <string>

namespace gpuctl::test {

class Sshd {
public:
  /// Generates the keys and configs in a fresh temp dir, starts `/usr/sbin/sshd -D -e -f CONFIG`
  /// and waits (up to 10 s) until its port accepts. Throws std::runtime_error naming what is
  /// missing or what sshd said when it does not come up.
  Sshd();
  /// Stops sshd (SIGTERM, then SIGKILL after 2 s) and removes the temp dir.
  ~Sshd();
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;

  /// The TCP port sshd listens on (127.0.0.1 only).
  int port() const { return m_port; }
  /// "USER@127.0.0.1:PORT" for the current user.
  std::string target() const;
  /// The client ssh_config (Options::config_file / GPUCTL_SSH_CONFIG): known_hosts with this
  /// server's key, the client key, StrictHostKeyChecking yes, IdentitiesOnly yes, LogLevel ERROR.
  std::string config_file() const { return m_dir / "ssh_config"; }
  /// A client config like config_file() whose known_hosts holds ANOTHER key for this server
  /// (a host key mismatch).
  std::string config_file_with_wrong_host_key();
  /// The temp dir (keys, configs, sshd.log, bin/).
  const std::string& dir() const { return m_dir.path(); }
  /// $HOME of the remote sessions (sshd's SetEnv), so jobs land in home()/.gpuctl/jobs; no
  /// startup file of the real user's is read there.
  std::string home() const { return m_dir / "home"; }
  /// What the fake `nvidia-smi` on the remote PATH prints on stdout and its exit status. It also
  /// appends its arguments, one per line, to dir()/bin/nvidia-smi.args.
  void set_nvidia_smi(const std::string& stdout_text, int exit_code = 0);
  /// sshd's own log (-e), for failure messages.
  std::string log() const;

private:
  TempDir m_dir;
  int m_port = 0;
  int m_pid = -1;
  std::string m_user;
};

} // namespace gpuctl::test
