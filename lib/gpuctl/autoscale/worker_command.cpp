// SPDX-License-Identifier: MIT
#include "gpuctl/autoscale/worker_command.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/providers/dask/client.hpp"
#include "gpuctl/providers/ssh/client.hpp"

#include <fmt/format.h>

#include <regex>

namespace gpuctl::autoscale {

void
validate_scheduler_address(const std::string& address)
{
  static const std::regex re(
      R"(^(tcp|tls)://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(address, m, re) || std::stoi(m[m.size() - 1].str()) < 1 ||
      std::stoi(m[m.size() - 1].str()) > 65535) {
    throw_usage("invalid Dask scheduler address '{}': expected tcp://HOST:PORT (e.g. "
                "tcp://10.0.0.5:8786), what the workers connect to",
                address);
  }
}

namespace {

/// The loop shared by both forms. `extra` adds words to the dask worker command line (already
/// quoted for sh). A worker that exits 0 was retired (or its scheduler closed): the loop ends
/// and gpuctl decides what happens to the machine. Any other exit (the scheduler not reachable
/// yet: --death-timeout; "name taken" while an old registration lingers) is retried with a
/// growing pause.
std::string
loop(const std::string& scheduler, const std::string& worker, int gpus, const std::string& extra)
{
  using providers::ssh::shell_quote;
  return fmt::format(
      "n=0\n"
      "while :; do\n"
      "  dask worker {} --name {} --no-nanny --resources {}{} \\\n"
      "    --dashboard-address 127.0.0.1:0 --death-timeout 60 --local-directory /tmp/gpuctl-dask\n"
      "  rc=$?\n"
      "  [ \"$rc\" -eq 0 ] && break\n"
      "  n=$((n + 1))\n"
      "  if [ \"$n\" -lt 6 ]; then sleep $((n * 5)); else sleep 30; fi\n"
      "done\n",
      shell_quote(scheduler), shell_quote(providers::dask::dask_name(worker)),
      shell_quote(fmt::format("GPU={}", gpus < 1 ? 1 : gpus)), extra);
}

} // namespace

std::string
vast_onstart(const std::string& scheduler, const std::string& worker, int gpus)
{
  validate_scheduler_address(scheduler);
  std::string body = loop(scheduler, worker, gpus,
                          " \\\n    --listen-address \"tcp://0.0.0.0:$port\" --contact-address "
                          "\"tcp://$ip:$port\"");
  std::string indented;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (i == 0 || body[i - 1] == '\n') {
      indented += "  ";
    }
    indented += body[i];
  }
  return fmt::format(
      "# gpuctl autoscale: the Dask worker of gpuctl worker {} (retried until Dask retires it)\n"
      "mkdir -p /tmp/gpuctl-dask\n"
      "port=\"${{VAST_TCP_PORT_70000:?gpuctl: no port opened (-p 70000:70000)}}\"\n"
      "ip=\"${{PUBLIC_IPADDR:?gpuctl: PUBLIC_IPADDR is not set}}\"\n"
      "(\n{}) >>/tmp/gpuctl-dask/worker.log 2>&1 &\n",
      worker, indented);
}

std::string
ssh_script(const std::string& scheduler, const std::string& worker, int gpus)
{
  validate_scheduler_address(scheduler);
  return "mkdir -p /tmp/gpuctl-dask\n" + loop(scheduler, worker, gpus, "");
}

} // namespace gpuctl::autoscale
