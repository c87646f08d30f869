#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Registers a team's fleet with gpuctl: 7 Colab accounts and 7 Kaggle accounts, one worker each
# (a T4 notebook), then prints `gpuctl status` and the 24x7 plan as a Gantt chart.
#
# Fair use: Kaggle and Colab allow ONE account per person. This is the fleet of a team or lab of
# seven people, each of whom owns one Colab and one Kaggle account and has agreed to have them
# scheduled together. Do not create accounts to fill a list like this one: gpuctl never creates
# accounts, never logs in through a browser, and never helps get around a provider's limits.
# Rename the accounts after their owners (alice-colab, alice-kaggle, ...) in real use.
#
# Safe to re-run: re-adding an identical account or worker changes nothing and exits 0.
#
# Environment:
#   GPUCTL     the gpuctl binary (default: <repo>/build/gpuctl when built, else gpuctl on PATH)
#   GPUCTL_DB  the state file to fill (default: $FLEET_DIR/state.db)
#   FLEET_DIR  where the demo state file goes when GPUCTL_DB is unset (default: ./.gpuctl-demo)
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

if [[ -n ${GPUCTL:-} ]]; then
    gpuctl=$GPUCTL
elif [[ -x $script_dir/../build/gpuctl ]]; then
    gpuctl=$script_dir/../build/gpuctl # this checkout's build, not an older installed gpuctl
else
    gpuctl=$(command -v gpuctl || echo gpuctl)
fi
if [[ ! -x $gpuctl ]]; then
    echo "fleet-14.sh: no gpuctl binary at '$gpuctl' (set GPUCTL, put gpuctl on PATH, or build it)" >&2
    exit 2
fi

# Its own state file unless told otherwise: the demo never touches your real fleet.
export GPUCTL_DB=${GPUCTL_DB:-${FLEET_DIR:-$PWD/.gpuctl-demo}/state.db}
echo "fleet-14.sh: state file $GPUCTL_DB" >&2

for i in 01 02 03 04 05 06 07; do
    # Colab: no API and no credentials file; the provider's [providers.colab] policy applies.
    "$gpuctl" --quiet account add "colab-$i" --provider colab
    "$gpuctl" --quiet worker add "colab-$i-w" --account "colab-$i" --gpu T4

    # Kaggle: each owner's token is found the way Kaggle's own tools find it; to point an account
    # at its owner's token file, add --credentials FILE to this line.
    "$gpuctl" --quiet account add "kaggle-$i" --provider kaggle
    "$gpuctl" --quiet worker add "kaggle-$i-w" --account "kaggle-$i" --gpu T4
done

"$gpuctl" status
echo
# The best 24/7 plan these accounts really allow, with its proven ceiling: Kaggle's weekly budget
# and Colab's daily one, both kept below quota.safe_below.
"$gpuctl" schedule --strategy 24x7 --format gantt
