#!/usr/bin/env bash
# examples/fleet-14.sh registers 7 Colab + 7 Kaggle accounts with a worker each, into its own
# state file, and re-running it is harmless. Usage: example_fleet14.sh GPUCTL EXAMPLES_DIR
set -euo pipefail
gpuctl=$1 examples=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home GPUCTL_NOW=2026-11-30T08:00:00Z TZ=UTC GPUCTL=$gpuctl
unset GPUCTL_DB
mkdir -p "$HOME" && cd "$work"
"$examples/fleet-14.sh" >/dev/null 2>&1
db=$work/.gpuctl-demo/state.db
before=$(sha256sum "$db")
"$examples/fleet-14.sh" >"$work/out" 2>&1
[[ $(sha256sum "$db") == "$before" ]] || { echo "re-run changed the state file"; exit 1; }
grep -q "14 total" "$work/out" || { echo "status did not show 14 workers"; cat "$work/out"; exit 1; }
n=$(GPUCTL_DB=$db "$gpuctl" worker list --json | grep -o '"name":' | wc -l)
[[ $n == 14 ]] || { echo "expected 14 workers, got $n"; exit 1; }
[[ ! -e $HOME/.local/state/gpuctl/state.db ]] || { echo "touched the default state file"; exit 1; }
accounts=$(GPUCTL_DB=$db "$gpuctl" __complete accounts | tr '\n' ' ')
[[ $accounts == "colab-01 colab-02 colab-03 colab-04 colab-05 colab-06 colab-07 kaggle-01 kaggle-02 kaggle-03 kaggle-04 kaggle-05 kaggle-06 kaggle-07 " ]] ||
  { echo "__complete accounts: $accounts"; exit 1; }
echo "fleet-14 ok"
