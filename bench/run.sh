#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Start-up and listing benchmarks of gpuctl with hyperfine (see bench/README.md).
#
#   bench/run.sh [BINARY]        BINARY defaults to build/gpuctl
#
# Environment: BENCH_OUT=DIR keeps hyperfine's JSON exports there (default: a temp dir, removed);
# BENCH_RUNS / BENCH_WARMUP override --runs 200 / --warmup 20.
# Needs hyperfine (Debian package `hyperfine`); python3 builds the 1,000-worker state file fast
# (without it the script registers the workers one by one with gpuctl itself, which is slower).
set -euo pipefail

bin=${1:-build/gpuctl}
if [[ ! -x $bin ]]; then
    echo "bench/run.sh: no executable gpuctl at '$bin' (build it, or pass its path)" >&2
    exit 2
fi
bin=$(cd -- "$(dirname -- "$bin")" && pwd)/$(basename -- "$bin")
command -v hyperfine >/dev/null || { echo "bench/run.sh: hyperfine is not installed" >&2; exit 2; }

runs=${BENCH_RUNS:-200}
warmup=${BENCH_WARMUP:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/gpuctl-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
out=${BENCH_OUT:-$work/out}
mkdir -p -- "$out"

# A clean, isolated environment: no user config, no user state, a fixed zone.
export HOME=$work/home XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config TZ=UTC
unset GPUCTL_DB GPUCTL_CONFIG GPUCTL_NOW GPUCTL_KAGGLE_URL GPUCTL_VAST_URL NO_COLOR
unset KAGGLE_API_TOKEN KAGGLE_USERNAME KAGGLE_KEY KAGGLE_CONFIG_DIR VAST_API_KEY
mkdir -p -- "$HOME"

# Registers accounts and workers with gpuctl itself: kaggle, colab, vast, ssh in turn, one
# account per 4 workers (the slow path, used for the small fleet and when python3 is missing).
fill_with_gpuctl() { # DB WORKERS
    local db=$1 n=$2 i a p
    for ((i = 0; i < n; i++)); do
        a=$(printf 'acct-%04d' $((i / 4)))
        case $(((i / 4) % 4)) in 0) p=kaggle ;; 1) p=colab ;; 2) p=vast ;; 3) p=ssh ;; esac
        GPUCTL_DB=$db "$bin" --quiet account add "$a" --provider "$p"
        case $p in
        kaggle | colab) GPUCTL_DB=$db "$bin" --quiet worker add "$(printf 'w-%04d' "$i")" --account "$a" --gpu T4 ;;
        vast) GPUCTL_DB=$db "$bin" --quiet worker add "$(printf 'w-%04d' "$i")" --account "$a" --gpu RTX_4090 \
            --instance-id $((9000000 + i)) --price 0.35 ;;
        ssh) GPUCTL_DB=$db "$bin" --quiet worker add "$(printf 'w-%04d' "$i")" --account "$a" --gpu A100 \
            --host "me@box$i:22" --price 0 ;;
        esac
    done
}

# The same fleet, written with python3's sqlite3 module into a state file that `gpuctl init`
# created (so the schema is the binary's own); only columns without defaults are filled in.
fill_with_python() { # DB WORKERS
    GPUCTL_DB=$1 "$bin" --quiet init
    python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
now = 1796083200  # 2026-12-01T00:00:00Z
providers = ["kaggle", "colab", "vast", "ssh"]
with con:
    ids = {}
    for a in range((n + 3) // 4):
        p = providers[a % 4]
        cur = con.execute("INSERT INTO accounts(name, provider, created_at) VALUES (?, ?, ?)",
                          ("acct-%04d" % a, p, now))
        ids[a] = (cur.lastrowid, p)
    for i in range(n):
        aid, p = ids[i // 4]
        host = ref = price = None
        gpu = "T4"
        if p == "vast":
            gpu, ref, price = "RTX_4090", str(9000000 + i), 0.35
        elif p == "ssh":
            gpu, host, price = "A100", "me@box%d:22" % i, 0.0
            ref = host
        con.execute("INSERT INTO workers(name, account_id, provider, gpu, host, provider_ref,"
                    " price_usd_per_hour, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    ("w-%04d" % i, aid, p, gpu, host, ref, price, now))
con.close()
EOF
}

count_workers() { # DB
    GPUCTL_DB=$1 "$bin" worker list --json | grep -o '"name":' | wc -l
}

# The quota ledger at scale: 1,000 accounts (kaggle and colab in turn), a worker each, and
# 200,000 closed sessions over the past years (a few dozen in each account's current window).
fill_ledger() { # DB
    GPUCTL_DB=$1 "$bin" --quiet init
    python3 - "$1" <<'EOF'
import random, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
now = 1796025600  # 2026-11-30T08:00:00Z, the GPUCTL_NOW of the quota case
rng = random.Random(1)
with con:
    for a in range(1000):
        p = ("kaggle", "colab")[a % 2]
        con.execute("INSERT INTO accounts(id, name, provider, created_at) VALUES (?, ?, ?, ?)",
                    (a + 1, "acct-%04d" % a, p, now))
        con.execute("INSERT INTO workers(id, name, account_id, provider, gpu, created_at)"
                    " VALUES (?, ?, ?, ?, 'T4', ?)", (a + 1, "w-%04d" % a, a + 1, p, now))
    rows = []
    for a in range(1000):
        t = now - 2 * 365 * 86400
        for _ in range(200):
            t += rng.randint(3600, 86400 * 6)
            d = rng.randint(600, 11 * 3600)
            if t + d >= now:
                break
            rows.append((a + 1, "w-%04d" % a, a + 1, t, t + d))
            t += d
    while len(rows) < 200000:
        a = rng.randrange(1000)
        t = now - rng.randint(800 * 86400, 1200 * 86400)
        rows.append((a + 1, "w-%04d" % a, a + 1, t, t + 3600))
    con.executemany("INSERT INTO sessions(worker_id, worker_name, account_id, started_at, ended_at)"
                    " VALUES (?, ?, ?, ?, ?)", rows[:200000])
con.close()
EOF
}

echo "gpuctl: $bin ($("$bin" --version))" >&2
echo "building state files in $work ..." >&2
db10=$work/w10.db
db1000=$work/w1000.db
fill_with_gpuctl "$db10" 10
if command -v python3 >/dev/null; then
    fill_with_python "$db1000" 1000
else
    fill_with_gpuctl "$db1000" 1000
fi
dbledger=$work/ledger.db
have_ledger=0
if command -v python3 >/dev/null; then
    fill_ledger "$dbledger"
    have_ledger=1
fi
for pair in "$db10:10" "$db1000:1000"; do
    got=$(count_workers "${pair%:*}")
    if [[ $got != "${pair#*:}" ]]; then
        echo "bench/run.sh: ${pair%:*} lists $got workers, expected ${pair#*:}" >&2
        exit 1
    fi
done

qbin=$(printf '%q' "$bin")
bench() { # NAME DB COMMAND-LINE
    GPUCTL_DB=$2 hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
        --export-json "$out/$1.json" --command-name "$1" "$3" >&2
}
# The floor: starting a process that does nothing (coreutils `true`, dynamically linked to libc).
true_bin=$(type -P true)
bench floor "$db10" "$(printf '%q' "$true_bin")"
bench version "$db10" "$qbin --version"
bench list-10 "$db10" "$qbin worker list --json"
bench list-1000 "$db1000" "$qbin worker list --json"
bench status-1000 "$db1000" "$qbin status --json"
if ((have_ledger)); then
    GPUCTL_NOW=2026-11-30T08:00:00Z bench quota-1000 "$dbledger" "$qbin quota --json"
    GPUCTL_NOW=2026-11-30T08:00:00Z bench plan-1000 "$dbledger" "$qbin schedule --strategy 24x7 --json"
fi

median_ms() { # JSON-FILE
    if command -v jq >/dev/null; then
        jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$1"
    else
        python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000, 2))' "$1"
    fi
}

printf '\n%-44s %10s %8s\n' "benchmark ($runs runs, $warmup warm-up)" "median ms" "target"
printf '%-44s %10s %8s\n' "true (process start floor)" "$(median_ms "$out/floor.json")" "-"
printf '%-44s %10s %8s\n' "gpuctl --version" "$(median_ms "$out/version.json")" "<= 2"
printf '%-44s %10s %8s\n' "gpuctl worker list --json, 10 workers" "$(median_ms "$out/list-10.json")" "<= 3"
printf '%-44s %10s %8s\n' "gpuctl worker list --json, 1,000 workers" "$(median_ms "$out/list-1000.json")" "<= 15"
printf '%-44s %10s %8s\n' "gpuctl status --json, 1,000 workers" "$(median_ms "$out/status-1000.json")" "-"
if ((have_ledger)); then
    printf '%-44s %10s %8s\n' "gpuctl quota --json, 1,000 acc., 200k sess." "$(median_ms "$out/quota-1000.json")" "< 50"
    printf '%-44s %10s %8s\n' "gpuctl schedule 24x7, 1,000 acc., 7 days" "$(median_ms "$out/plan-1000.json")" "< 200"
fi
[[ -n ${BENCH_OUT:-} ]] && echo "hyperfine JSON exports: $out" >&2
exit 0
