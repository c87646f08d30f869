// SPDX-License-Identifier: MIT
#include "gpuctl/hibernate/watchdog.hpp"

#include "gpuctl/core/error.hpp"

#include <map>
#include <string_view>

namespace gpuctl::hibernate {

namespace {

// The script. @NAME@ placeholders are filled in by watchdog_snippet; everything else is sent
// as is. POSIX sh only (checked with `shellcheck -s sh` in tests/unit/test_watchdog.cpp).
constexpr std::string_view script_template = R"SH(#!/bin/sh
# gpuctl idle watchdog for this vast.ai instance (written by `gpuctl hibernate watchdog`).
# It stops THIS instance (disk kept, like `vastai stop instance`) once all its GPUs have been
# idle for a while and no gpuctl job is running. It uses CONTAINER_ID / CONTAINER_API_KEY, which
# vast.ai sets in every instance and which can manage only this instance; your own vast.ai API
# key is not used and is not on this machine.

# --- settings (edit and restart the watchdog to change them) ---
# A GPU counts as idle below this utilisation, in percent.
IDLE_BELOW=@IDLE_BELOW@
# Stop after this many seconds of idleness: @IDLE_FOR@ s (idle_for) + @MARGIN@ s (margin).
IDLE_SECONDS=@IDLE_SECONDS@
# Seconds between two samples.
INTERVAL=@INTERVAL@
# The vast.ai API server.
API_BASE=@API_BASE@
# gpuctl's job directories: one per job, with a pid file, and an exit file once it ended.
JOBS_DIR=@JOBS_DIR@
# The HTTP tool: curl, wget or python3; empty = the first of these that is installed.
HTTP_TOOL=${GPUCTL_WATCHDOG_HTTP:-}
# The request body that asks vast.ai to stop the instance.
BODY='{"state": "stopped"}'

# Prints one line to the log (stdout), prefixed with the UTC time.
log() { printf '%s gpuctl-watchdog: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# Succeeds when every GPU reports a utilisation below IDLE_BELOW. A missing nvidia-smi, an
# error, no GPU at all, or a value that is not a number (such as [N/A]) counts as busy.
gpus_idle() {
  # One line per GPU, a bare number such as "3"; stderr is dropped; a failure means busy.
  util=$(nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits 2>/dev/null) || return 1
  # awk exits 0 only if there was at least one number and all numbers were below the limit.
  printf '%s\n' "$util" | awk -v limit="$IDLE_BELOW" '
    /^[ \t]*[0-9]+(\.[0-9]+)?[ \t]*$/ { n++; if ($1 + 0 >= limit + 0) busy = 1; next }
    /^[ \t]*$/ { next }
    { busy = 1 }
    END { exit (n > 0 && !busy) ? 0 : 1 }'
}

# Succeeds when a gpuctl job is alive: its directory has a pid file and no exit file, and the
# process or its process group still exists.
job_running() {
  # Each job directory in turn (none: the pattern stays unexpanded and the tests below fail).
  for dir in "$JOBS_DIR"/*/; do
    # No pid file yet: nothing to check.
    [ -f "${dir}pid" ] || continue
    # An exit file: the job has ended.
    [ -f "${dir}exit" ] && continue
    # The recorded pid, which must be a plain number.
    pid=$(cat "${dir}pid" 2>/dev/null) || continue
    case $pid in '' | *[!0-9]*) continue ;; esac
    # Signal 0 only checks that the process (or its process group) exists; nothing is sent.
    if kill -s 0 "$pid" 2>/dev/null || kill -s 0 -- "-$pid" 2>/dev/null; then
      return 0
    fi
  done
  # No live job found.
  return 1
}

# Asks vast.ai to stop this instance; succeeds when the answer says "success": true.
stop_instance() {
  # This instance's own API address.
  url="$API_BASE/api/v0/instances/$CONTAINER_ID/"
  # Use the forced tool, else the first one installed.
  tool=$HTTP_TOOL
  if [ -z "$tool" ]; then
    if command -v curl >/dev/null 2>&1; then tool=curl
    elif command -v wget >/dev/null 2>&1; then tool=wget
    elif command -v python3 >/dev/null 2>&1; then tool=python3
    else log "no curl, wget or python3 here: cannot call the vast.ai API"; return 1
    fi
  fi
  case $tool in
    curl)
      # curl reads the Authorization header from its stdin (-K -), so the key is not on the
      # command line where ps would show it; -sS: quiet but show errors; 60 s at most.
      answer=$(printf 'header = "Authorization: Bearer %s"\n' "$CONTAINER_API_KEY" |
        curl -sS -K - -X PUT -H 'Content-Type: application/json' --data "$BODY" \
          --max-time 60 "$url" 2>&1)
      ;;
    wget)
      # GNU wget reads the Authorization header from a private wgetrc file (mode 600, removed
      # right after), again to keep the key off the command line.
      rc=$(mktemp) || return 1
      printf 'header = Authorization: Bearer %s\n' "$CONTAINER_API_KEY" >"$rc"
      answer=$(WGETRC=$rc wget -q -O - --content-on-error --method=PUT \
        --header='Content-Type: application/json' --body-data="$BODY" --timeout=60 "$url" 2>&1)
      rm -f "$rc"
      ;;
    python3)
      # Python's standard library; it reads the key from the environment itself.
      answer=$(python3 -c '
import os, sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="PUT", headers={
    "Authorization": "Bearer " + os.environ["CONTAINER_API_KEY"],
    "Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=60).read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
' "$url" "$BODY" 2>&1)
      ;;
    *)
      # GPUCTL_WATCHDOG_HTTP named something else.
      log "unknown GPUCTL_WATCHDOG_HTTP '$tool' (use curl, wget or python3)"; return 1
      ;;
  esac
  # vast.ai answers {"success": true} when it accepted the stop.
  case $answer in *'"success": true'* | *'"success":true'*) return 0 ;; esac
  # Anything else: log it (the answer never contains the key) and try again later.
  log "stop failed: $answer"
  return 1
}

# Without the instance's own credentials there is nothing this script can do.
if [ -z "${CONTAINER_ID:-}" ] || [ -z "${CONTAINER_API_KEY:-}" ]; then
  log "CONTAINER_ID or CONTAINER_API_KEY is not set (not a vast.ai instance?): exiting"
  exit 1
fi
log "watching instance $CONTAINER_ID: stop after $IDLE_SECONDS s below $IDLE_BELOW% GPU with no job"
# When the current idle stretch began (epoch seconds); empty while busy.
idle_since=
# Sample forever; the instance stopping ends this process.
while :; do
  # The current time, epoch seconds.
  now=$(date +%s)
  if gpus_idle && ! job_running; then
    # Idle: remember when it began.
    [ -n "$idle_since" ] || idle_since=$now
    # Idle long enough: stop the instance.
    if [ $((now - idle_since)) -ge "$IDLE_SECONDS" ]; then
      log "idle for $((now - idle_since)) s: stopping instance $CONTAINER_ID"
      # Accepted: count idleness afresh (the instance goes down shortly).
      if stop_instance; then log "stop accepted"; idle_since=; fi
    fi
  else
    # Busy GPU or a live job: start over.
    idle_since=
  fi
  # Wait for the next sample.
  sleep "$INTERVAL"
done
)SH";

// The onstart wrapper; @SCRIPT@ is the script above, which never contains the end marker line.
constexpr std::string_view onstart_template = R"SH(# gpuctl idle watchdog: installs it into ~/.gpuctl and starts it in the background.
# Its files: watchdog.sh (the script), watchdog.log (what it did), watchdog.pid (its pid).
GPUCTL_WD_DIR="${HOME:-/root}/.gpuctl"
# Create the directory if needed.
mkdir -p "$GPUCTL_WD_DIR"
# Write the script (the quoted marker keeps the shell from expanding anything inside).
cat >"$GPUCTL_WD_DIR/watchdog.sh" <<'GPUCTL_WATCHDOG_END'
@SCRIPT@GPUCTL_WATCHDOG_END
# The pid of a watchdog started earlier, if any.
GPUCTL_WD_PID=$(cat "$GPUCTL_WD_DIR/watchdog.pid" 2>/dev/null)
# Start one unless that pid is still a watchdog (checked in /proc, since pids are reused).
if [ -z "$GPUCTL_WD_PID" ] || ! tr '\000' ' ' 2>/dev/null <"/proc/$GPUCTL_WD_PID/cmdline" | grep -q 'watchdog\.sh'; then
  # nohup and & keep it running after onstart returns; output is appended to the log.
  nohup sh "$GPUCTL_WD_DIR/watchdog.sh" >>"$GPUCTL_WD_DIR/watchdog.log" 2>&1 &
  # Remember its pid.
  echo $! >"$GPUCTL_WD_DIR/watchdog.pid"
fi
)SH";

/// POSIX sh single quotes: 'it'\''s'.
std::string
sh_quote(std::string_view s)
{
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// Fills `@NAME@` placeholders in one pass (inserted text is never scanned again).
std::string
substitute(std::string_view text, const std::map<std::string_view, std::string>& values)
{
  std::string out;
  while (true) {
    auto at = text.find('@');
    auto end = at == std::string_view::npos ? at : text.find('@', at + 1);
    if (end == std::string_view::npos) {
      out += text;
      return out;
    }
    auto it = values.find(text.substr(at + 1, end - at - 1));
    if (it == values.end()) {
      out += text.substr(0, at + 1); // a lone '@'
      text.remove_prefix(at + 1);
      continue;
    }
    out += text.substr(0, at);
    out += it->second;
    text.remove_prefix(end + 1);
  }
}

} // namespace

std::string
watchdog_snippet(const WatchdogParams& p)
{
  if (!(p.idle_below > 0.0 && p.idle_below <= 100.0)) {
    throw_usage("idle threshold {}% is outside 0 to 100 (exclusive of 0)", p.idle_below);
  }
  if (p.idle_for.count() <= 0) {
    throw_usage("idle_for must be positive (got {} s)", p.idle_for.count());
  }
  if (p.margin.count() < 0) {
    throw_usage("the watchdog margin must not be negative (got {} s)", p.margin.count());
  }
  if (p.interval.count() < 1) {
    throw_usage("the watchdog sample interval must be at least 1 s (got {} s)",
                p.interval.count());
  }
  std::string base = p.api_base;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  bool scheme = base.rfind("https://", 0) == 0 || base.rfind("http://", 0) == 0;
  bool clean = true;
  for (char c : base) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\'' || c == '"' || c == '\\') {
      clean = false;
    }
  }
  if (!scheme || !clean || base.size() <= std::string_view("https://").size() - 1) {
    throw_usage("invalid vast.ai API base URL '{}': use http(s)://HOST[:PORT]", p.api_base);
  }
  for (char c : p.jobs_dir) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      throw_usage("the watchdog jobs directory contains a control character");
    }
  }

  return substitute(
    script_template,
    {{"IDLE_BELOW", fmt::format("{}", p.idle_below)},
     {"IDLE_FOR", std::to_string(p.idle_for.count())},
     {"MARGIN", std::to_string(p.margin.count())},
     {"IDLE_SECONDS", std::to_string((p.idle_for + p.margin).count())},
     {"INTERVAL", std::to_string(p.interval.count())},
     {"API_BASE", sh_quote(base)},
     {"JOBS_DIR", p.jobs_dir.empty() ? std::string("\"${HOME:-/root}/.gpuctl/jobs\"")
                                     : sh_quote(p.jobs_dir)}});
}

std::string
watchdog_onstart(const WatchdogParams& p)
{
  return substitute(onstart_template, {{"SCRIPT", watchdog_snippet(p)}});
}

} // namespace gpuctl::hibernate
