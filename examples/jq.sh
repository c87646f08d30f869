#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# gpuctl --json in scripts: a few one-liners with jq. Every command prints one JSON value on
# stdout (an array for lists, an object otherwise; DESIGN §10 shapes), errors go to stderr as one
# line, and exit codes are stable (0 ok, 1 failure reported, 2 usage, 3 provider, 4 conflict).
#
#   examples/jq.sh            # against your state file (GPUCTL_DB, else the XDG default)
#   GPUCTL_DB=.gpuctl-demo/state.db examples/jq.sh   # against the fleet-14 demo
set -euo pipefail
gpuctl=${GPUCTL:-gpuctl}
command -v jq >/dev/null || { echo "jq.sh: needs jq (apt-get install jq)" >&2; exit 2; }

echo "# workers that are online, one name per line"
"$gpuctl" worker list --json | jq -r '.[] | select(.state == "online") | .name'

echo "# accounts at warning or worse, with their share of the binding window"
"$gpuctl" quota --json | jq -r '.[] | select(.status != "safe") | "\(.account)\t\(.status)\t\(.share)"'

echo "# usable GPU hours left in the whole pool"
"$gpuctl" status --json | jq '.usable_hours_left'

echo "# open sessions that reach their deadline within the hour (seconds left)"
"$gpuctl" quota --json | jq -r '.[].sessions[] | select(.left_s != null and .left_s < 3600) | "\(.worker)\t\(.left_s)"'

echo "# queued jobs and why they wait"
"$gpuctl" job list --state queued --json | jq -r '.[] | "\(.id)\t\(.name)\t\(.why_queued)"'

echo "# the 24x7 plan's proven ceiling beside what it achieves"
"$gpuctl" schedule --strategy 24x7 --json | jq '{ceiling, min_online, planned_hours}'

echo "# what the scheduler and the sweep did in the last day"
"$gpuctl" events --since -1d --json | jq -r '.[] | "\(.at)\t\(.type)\t\(.worker // "-")\t\(.reason)"'
