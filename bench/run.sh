#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Start-up and listing benchmarks of gpuctl with hyperfine (see bench/README.md).
#
#   bench/run.sh [BINARY]        BINARY defaults to build/gpuctl
#
# Environment: BENCH_OUT=DIR keeps hyperfine's JSON exports there (default: a temp dir, removed);
# BENCH_RUNS / BENCH_WARMUP override --runs 200 / --warmup 20.
# BENCH_CASES=all (default) | offline | net | tick | sweep | complete: the offline cases, the network cases
# against fake_vast (sync-5000, offers-vs-official), the scheduler tick (10,000 queued jobs, 500
# workers, bench/tick_bench.cpp; needs build/bench/tick_bench), the hibernation sweep (5,000
# running instances on fake_vast, 7 days of history in the state file; needs python3, curl, jq),
# the shell completion's `gpuctl __complete workers` over 1,000 workers (target < 5 ms median),
# or all of them.
# BENCH_FAKE_VAST=PATH: fake_vast (default: tests/fakes/fake_vast next to the gpuctl binary).
# BENCH_SYNC_RUNS (default 10) / BENCH_NET_RUNS (default 30, the minimum per command) /
# BENCH_SWEEP_RUNS (default 10).
# VASTAI_CLI="COMMAND": the official vast.ai CLI (for example the wrapper of
# specs/vast-api.md §11.4); never fetched or built here. Unset: offers-vs-official is skipped.
# Needs hyperfine (Debian package `hyperfine`, installed with apt-get when missing); python3 builds the 1,000-worker state file fast
# (without it the script registers the workers one by one with gpuctl itself, which is slower).
# The network cases also need curl, jq and a C compiler (cc).
set -euo pipefail

bin=${1:-build/gpuctl}
if [[ ! -x $bin ]]; then
    echo "bench/run.sh: no executable gpuctl at '$bin' (build it, or pass its path)" >&2
    exit 2
fi
bin=$(cd -- "$(dirname -- "$bin")" && pwd)/$(basename -- "$bin")
if ! command -v hyperfine >/dev/null; then
    echo "bench/run.sh: installing hyperfine (apt-get)" >&2
    sudo=
    [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get install -y -qq --no-install-recommends hyperfine >/dev/null ||
        { echo "bench/run.sh: hyperfine is not installed and apt-get could not install it" >&2; exit 2; }
fi

runs=${BENCH_RUNS:-200}
warmup=${BENCH_WARMUP:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/gpuctl-bench.XXXXXX")
fake_pid=
sweep_fake_pid=
cleanup() {
    local p
    for p in $fake_pid $sweep_fake_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf -- "$work"
}
trap cleanup EXIT
cases=${BENCH_CASES:-all}
case $cases in
all | offline | net | tick | sweep | complete) ;;
*) echo "bench/run.sh: BENCH_CASES is all, offline, net, tick, sweep or complete" >&2; exit 2 ;;
esac
out=${BENCH_OUT:-$work/out}
mkdir -p -- "$out"

# A clean, isolated environment: no user config, no user state, a fixed zone.
export HOME=$work/home XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config TZ=UTC
unset GPUCTL_DB GPUCTL_CONFIG GPUCTL_NOW GPUCTL_KAGGLE_URL GPUCTL_VAST_URL NO_COLOR
unset KAGGLE_API_TOKEN KAGGLE_USERNAME KAGGLE_KEY KAGGLE_CONFIG_DIR VAST_API_KEY VAST_URL
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
median_ms() { # JSON-FILE [COMMAND-NAME]: the median in ms (of the first result, or the named one)
    if command -v jq >/dev/null; then
        jq -r --arg n "${2:-}" '[.results[] | select($n == "" or .command == $n)][0].median
            | . * 1000 | . * 100 | round / 100' "$1"
    else
        python3 -c 'import json,sys
r = [x for x in json.load(open(sys.argv[1]))["results"] if sys.argv[2] in ("", x["command"])][0]
print(round(r["median"]*1000, 2))' "$1" "${2:-}"
    fi
}

qbin=$(printf '%q' "$bin")
true_bin=$(type -P true)
if [[ $cases == all || $cases == offline ]]; then
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

    bench() { # NAME DB COMMAND-LINE
        GPUCTL_DB=$2 hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
            --export-json "$out/$1.json" --command-name "$1" "$3" >&2
    }
    # The floor: starting a process that does nothing (coreutils `true`, dynamically linked to libc).
    bench floor "$db10" "$(printf '%q' "$true_bin")"
    bench version "$db10" "$qbin --version"
    bench list-10 "$db10" "$qbin worker list --json"
    bench list-1000 "$db1000" "$qbin worker list --json"
    bench status-1000 "$db1000" "$qbin status --json"
    if ((have_ledger)); then
        GPUCTL_NOW=2026-11-30T08:00:00Z bench quota-1000 "$dbledger" "$qbin quota --json"
        GPUCTL_NOW=2026-11-30T08:00:00Z bench plan-1000 "$dbledger" "$qbin schedule --strategy 24x7 --json"
    fi

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
fi

# ---- Network cases: gpuctl against fake_vast (tests/fakes/README.md) --------------------------
# sync-5000: `gpuctl worker sync` listing 5,000 instances (200 pages of 25, pace 0) beside curl
# fetching the same 200 pages on one connection (the fake's and the transport's share).
# offers-vs-official: one hyperfine run with the same offer search by gpuctl, by curl and by the
# official vast.ai CLI (VASTAI_CLI), and the split of gpuctl's time: process start, libcurl load,
# gpuctl's own work (DESIGN §2).
net_ok=1
if [[ $cases == all || $cases == net ]]; then
    for tool in curl jq cc; do
        if ! command -v "$tool" >/dev/null; then
            echo "bench/run.sh: network cases skipped: '$tool' is not installed" >&2
            net_ok=0
        fi
    done
    fake=${BENCH_FAKE_VAST:-$(dirname -- "$bin")/tests/fakes/fake_vast}
    if [[ ! -x $fake ]]; then
        echo "bench/run.sh: network cases skipped: no fake_vast at '$fake'" \
            "(cmake --build build --target fake_vast, or set BENCH_FAKE_VAST)" >&2
        net_ok=0
    fi
fi
if [[ $cases == all || $cases == net ]] && ((net_ok)); then
    sync_runs=${BENCH_SYNC_RUNS:-10}
    net_runs=${BENCH_NET_RUNS:-30}
    cdir=$work/c
    mkdir -p -- "$cdir"
    # Two tiny programs for the split: an empty one (process start of a C program), and one that
    # does what gpuctl's net/ does on its first request (lib/gpuctl/net/curl_transport.cpp).
    printf 'int main(void) { return 0; }\n' | cc -O2 -x c - -o "$cdir/empty"
    cc -O2 -x c - -o "$cdir/dlcurl" -ldl <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    int (*init)(long) = (int (*)(long))dlsym(h, "curl_global_init");
    return init && init(3 /* CURL_GLOBAL_DEFAULT */) == 0 ? 0 : 1;
}
EOF
    # fake_vast sets TCP_NODELAY and long keep-alive itself, and gpuctl (like the official
    # clients) accepts gzip/deflate, not brotli, so the fake runs exactly as built.
    fake_env=()
    fake_mode="fake_vast as built"

    # A private copy: a rebuild of build/ while the fake runs must not pull the binary from under it.
    cp -- "$fake" "$cdir/fake_vast"
    env "${fake_env[@]}" "$cdir/fake_vast" --port 0 >"$work/fake.out" 2>"$work/fake.err" &
    fake_pid=$!
    port=
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/fake.out")
        [[ -n $port ]] && break
        sleep 0.05
    done
    if [[ -z $port ]]; then
        echo "bench/run.sh: fake_vast did not start: $(cat "$work/fake.err")" >&2
        exit 1
    fi
    url=http://127.0.0.1:$port
    echo "fake_vast on $url ($fake_mode)" >&2
    ids=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"count": 5000, "label": "bench"}' \
        "$url/__control/instances" | jq -r '.ids | sort | .[]')
    if [[ $(wc -l <<<"$ids") != 5000 ]]; then
        echo "bench/run.sh: fake_vast did not create 5,000 instances" >&2
        exit 1
    fi

    # gpuctl: its own state file and config (pace 0: no minimum gap between the list calls).
    export GPUCTL_DB=$work/vast.db GPUCTL_CONFIG=$work/vast.toml GPUCTL_VAST_URL=$url VAST_API_KEY=TESTKEY
    printf '[providers.vast]\npace = "0s"\n' >"$GPUCTL_CONFIG"
    "$bin" --quiet account add bench --provider vast
    if ! sync_json=$("$bin" worker sync --json); then
        state=gone
        kill -0 "$fake_pid" 2>/dev/null && state=running
        echo "bench/run.sh: gpuctl worker sync failed (fake_vast $state; its stderr: $(cat "$work/fake.err"))" >&2
        exit 1
    fi
    pages=$(jq -r '.accounts[0].pages' <<<"$sync_json")
    listed=$(jq -r '.accounts[0].instances' <<<"$sync_json")
    if [[ $pages != 200 || $listed != 5000 ]]; then
        echo "bench/run.sh: worker sync listed $listed instances in $pages pages, expected 5000 in 200" >&2
        exit 1
    fi

    # The same 200 pages for curl: gpuctl's query; after_token = base64 of the last id's
    # {"values": {"id": N}} (the fake's token format, as the live API's).
    q='select_filters=%7B%7D&order_by=%5B%7B%22col%22%3A%22id%22%2C%22dir%22%3A%22asc%22%7D%5D&limit=25'
    {
        printf 'silent\ncompressed\nheader = "Accept: application/json"\n'
        printf 'header = "Authorization: Bearer TESTKEY"\n'
        printf 'url = "%s/api/v1/instances/?%s"\noutput = "/dev/null"\n' "$url" "$q"
        k=0
        while read -r id; do
            k=$((k + 1))
            if ((k % 25 == 0 && k < 5000)); then
                tok=$(printf '{"values": {"id": %d}}' "$id" | base64 -w0 | sed 's/+/%2B/g; s#/#%2F#g; s/=/%3D/g')
                printf 'url = "%s/api/v1/instances/?%s&after_token=%s"\noutput = "/dev/null"\n' "$url" "$q" "$tok"
            fi
        done <<<"$ids"
    } >"$work/pages.curl"
    curl -fsS -X DELETE "$url/__control/log" >/dev/null
    curl -K "$work/pages.curl"
    got=$(curl -fsS "$url/__control/log" | jq '[.[] | select(.path == "/api/v1/instances/" and .status == 200)]
        | [length, (.[-1].response_body | fromjson | .next_token)] | @text')
    if [[ $got != '"[200,null]"' ]]; then
        echo "bench/run.sh: curl's 200 pages were not all answered (log: $got)" >&2
        exit 1
    fi

    qcurl=$(printf '%q' "$(type -P curl)")
    clear_log="$qcurl -fsS -X DELETE $url/__control/log"
    hyperfine -N --warmup 1 --runs "$sync_runs" --style basic --prepare "$clear_log" \
        --export-json "$out/sync-5000.json" \
        --command-name sync-5000 "$qbin worker sync" \
        --command-name pages-curl "$qcurl -K $work/pages.curl" >&2
    curl -fsS -X DELETE "$url/__control/log" >/dev/null

    # The search: RTX 4090, 1 GPU, cheapest first, 5 offers, 5 GB of disk priced in (the
    # official CLI's default --storage; gpuctl's default is 16).
    gsearch="$qbin offers search --gpu RTX_4090 --num-gpus 1 --order price --limit 5 --disk 5 --json"
    printf '%s' '{"verified":{"eq":true},"external":{"eq":false},"rentable":{"eq":true},"gpu_name":{"eq":"RTX 4090"},"num_gpus":{"eq":1},"order":[["dph_total","asc"]],"type":"on-demand","limit":5,"allocated_storage":5.0}' \
        >"$work/search.json"
    csearch="$qcurl -fsS --compressed -o /dev/null -X POST -H 'Accept: application/json'"
    csearch+=" -H 'Authorization: Bearer TESTKEY' -H 'Content-Type: application/json'"
    csearch+=" --data-binary @$work/search.json $url/api/v0/bundles/"
    gids=$($gsearch | jq -c '[.[].id]')
    names=(floor c-empty c-libcurl gpuctl-version gpuctl-search curl-search)
    cmds=("$(printf '%q' "$true_bin")" "$cdir/empty" "$cdir/dlcurl" "$qbin --version" "$gsearch" "$csearch")
    have_official=0
    if [[ -n ${VASTAI_CLI:-} ]]; then
        export VAST_URL=$url VASTAI_NO_UPDATE_CHECK=1
        osearch="$VASTAI_CLI --url $url --api-key TESTKEY search offers 'gpu_name=RTX_4090 num_gpus=1' -o dph+ --limit 5 --raw"
        # The first call also fills ~/.cache/vastai/gpu_names_cache.json (HOME is the scratch one).
        oids=$(eval "$osearch" | jq -c '[.[].id]')
        if [[ $oids != "$gids" ]]; then
            echo "bench/run.sh: gpuctl found $gids, the official CLI $oids: not the same search" >&2
            exit 1
        fi
        names+=(vastai-search)
        cmds+=("$osearch")
        have_official=1
    else
        echo "bench/run.sh: VASTAI_CLI is not set: offers-vs-official measures gpuctl only" \
            "(set it to the official CLI's command, see bench/README.md)" >&2
    fi
    hargs=()
    for i in "${!names[@]}"; do
        hargs+=(--command-name "${names[$i]}" "${cmds[$i]}")
    done
    hyperfine -N --warmup 3 --min-runs "$net_runs" --style basic \
        --export-json "$out/offers.json" "${hargs[@]}" >&2

    m() { median_ms "$out/offers.json" "$1"; }
    cpu_ms() { # JSON-FILE NAME: mean user+system CPU in ms
        jq -r --arg n "$2" '.results[] | select(.command == $n) | (.user + .system) * 1000 | round' "$1"
    }
    sub() { jq -n "($1) * 100 | round / 100"; }
    printf '\n%-44s %10s %8s\n' "network ($fake_mode)" "median ms" "target"
    printf '%-44s %10s %8s\n' "gpuctl worker sync, 5,000 inst., 200 pages" \
        "$(median_ms "$out/sync-5000.json" sync-5000)" "< 1000"
    printf '%-44s %10s %8s\n' "  its CPU time (user+sys, mean)" "$(cpu_ms "$out/sync-5000.json" sync-5000)" "-"
    printf '%-44s %10s %8s\n' "curl, the same 200 pages, one connection" \
        "$(median_ms "$out/sync-5000.json" pages-curl)" "-"
    printf '%-44s %10s %8s\n' "true (process start floor)" "$(m floor)" "-"
    printf '%-44s %10s %8s\n' "empty C program" "$(m c-empty)" "-"
    printf '%-44s %10s %8s\n' "C program: dlopen libcurl.so.4 + global_init" "$(m c-libcurl)" "-"
    printf '%-44s %10s %8s\n' "gpuctl --version" "$(m gpuctl-version)" "-"
    printf '%-44s %10s %8s\n' "gpuctl offers search --json" "$(m gpuctl-search)" "-"
    printf '%-44s %10s %8s\n' "curl, the same search" "$(m curl-search)" "-"
    if ((have_official)); then
        printf '%-44s %10s %8s\n' "official vastai search offers --raw" "$(m vastai-search)" "-"
    fi
    load=$(sub "$(m c-libcurl) - $(m c-empty)")
    work_ms=$(sub "$(m gpuctl-search) - $(m gpuctl-version) - $load")
    printf '\nsplit of gpuctl offers search (%s ms): start %s ms (gpuctl --version), libcurl load %s ms,' \
        "$(m gpuctl-search)" "$(m gpuctl-version)" "$load"
    printf ' gpuctl work incl. the round trip %s ms\n' "$work_ms"
    if ((have_official)); then
        printf 'official CLI / gpuctl, medians of the same hyperfine run: %sx (target >= 40x)\n' \
            "$(jq -n "$(m vastai-search) / $(m gpuctl-search) * 10 | round / 10")"
    fi
fi
# ---- The scheduler tick: 10,000 queued jobs, 500 workers, a back end that accepts at once -----
if [[ $cases == all || $cases == tick ]]; then
    tick_bench=${BENCH_TICK:-$(dirname -- "$bin")/bench/tick_bench}
    if [[ ! -x $tick_bench ]]; then
        echo "bench/run.sh: tick case skipped: no tick_bench at '$tick_bench' (build the tests)" >&2
    else
        "$tick_bench" prepare "$work/tick-base.db"
        hyperfine --style basic --runs "${BENCH_TICK_RUNS:-10}" --warmup 1 \
            --prepare "cp '$work/tick-base.db' '$work/tick.db'; rm -f '$work/tick.db-wal' '$work/tick.db-shm'" \
            --export-json "$out/tick.json" -n tick "'$tick_bench' tick '$work/tick.db'" >/dev/null
        printf '\n%-44s %10s %8s\n' "scheduler" "median ms" "target"
        printf '%-44s %10s %8s\n' "one tick: 10,000 queued, 500 dispatched" \
            "$(jq -r '.results[0].median * 1000 | round' "$out/tick.json")" "< 2000"
    fi
fi
# ---- The hibernation sweep: 5,000 busy vast instances, 7 days of history in the state file -----
# Its own fake_vast (clock moved to the bench's times, pace off) and state file: 5,000 running
# instances reporting gpu_util 50 (all busy, so no sweep stops anything and every run sees the
# same fake and the same state file), adopted 7 days before the sweep; then 4 events per worker
# per day for those 7 days and the utilisation samples the sweeps of the last 24 h left (one per
# worker per minute, 1,441 each; samples are pruned an hour at a time, once the oldest is over
# 25 h old, so this sweep — like 59 of every 60 — prunes nothing); one
# `worker sync` a minute before the sweep (the previous sweep's listing). Each timed run starts
# from a copy of that file (--prepare).
if [[ $cases == all || $cases == sweep ]]; then
    sweep_ok=1
    for tool in curl jq python3; do
        if ! command -v "$tool" >/dev/null; then
            echo "bench/run.sh: sweep case skipped: '$tool' is not installed" >&2
            sweep_ok=0
        fi
    done
    sfake=${BENCH_FAKE_VAST:-$(dirname -- "$bin")/tests/fakes/fake_vast}
    if [[ ! -x $sfake ]]; then
        echo "bench/run.sh: sweep case skipped: no fake_vast at '$sfake'" >&2
        sweep_ok=0
    fi
fi
if [[ $cases == all || $cases == sweep ]] && ((sweep_ok)); then
    sweep_now=1796112000 # 2026-12-01T08:00:00Z, a day after the fakes' start
    sweep_t0=$((sweep_now - 7 * 86400))
    sdir=$work/sweep
    mkdir -p -- "$sdir"
    cp -- "$sfake" "$sdir/fake_vast"
    "$sdir/fake_vast" --port 0 >"$sdir/fake.out" 2>"$sdir/fake.err" &
    sweep_fake_pid=$!
    sport=
    for ((i = 0; i < 100; i++)); do
        sport=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$sdir/fake.out")
        [[ -n $sport ]] && break
        sleep 0.05
    done
    if [[ -z $sport ]]; then
        echo "bench/run.sh: fake_vast (sweep) did not start: $(cat "$sdir/fake.err")" >&2
        exit 1
    fi
    surl=http://127.0.0.1:$sport
    echo "building the sweep state file in $sdir (fake_vast on $surl) ..." >&2
    curl -fsS -X POST -d '{"enabled": false}' "$surl/__control/pace" >/dev/null
    curl -fsS -X POST -d "{\"now\": $sweep_t0}" "$surl/__control/clock" >/dev/null
    made=$(curl -fsS -X POST -H 'Content-Type: application/json' \
        -d '{"count": 5000, "label": "bench", "gpu_util": 50}' "$surl/__control/instances" | jq '.ids | length')
    if [[ $made != 5000 ]]; then
        echo "bench/run.sh: fake_vast (sweep) did not create 5,000 instances" >&2
        exit 1
    fi
    sdb=$sdir/sweep.db
    export GPUCTL_DB=$sdir/base.db GPUCTL_CONFIG=$sdir/vast.toml GPUCTL_VAST_URL=$surl VAST_API_KEY=TESTKEY
    unset VAST_URL
    printf '[providers.vast]\npace = "0s"\n' >"$GPUCTL_CONFIG"
    GPUCTL_NOW=@$sweep_t0 "$bin" --quiet account add bench --provider vast
    adopted=$(GPUCTL_NOW=@$sweep_t0 "$bin" worker sync --adopt --json | jq '[.unmanaged[] | select(.adopted_as != null)] | length')
    curl -fsS -X POST -d "{\"now\": $sweep_now}" "$surl/__control/clock" >/dev/null
    python3 - "$GPUCTL_DB" "$sweep_now" <<'EOF'
import sqlite3, sys
db, now = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
con.execute("PRAGMA synchronous=OFF")
con.execute("PRAGMA cache_size=-600000")
ids = [r[0] for r in con.execute("SELECT id FROM workers ORDER BY id")]
with con:
    # 4 events per worker per day over the 7 days, in time order as gpuctl writes them.
    ev = []
    for d in range(7, 0, -1):
        for slot, (typ, reason) in enumerate([("idle_detected", "GPU below 5% for 0s of 3m"),
                                              ("busy", "GPU at 50%"),
                                              ("job.dispatched", "dispatched"),
                                              ("job.finished", "exit 0")]):
            at = now - d * 86400 + slot * 3600
            ev += [(at + w % 60, typ, w, reason, "{}") for w in ids]
    con.executemany("INSERT INTO events(at, type, worker_id, reason, detail_json)"
                    " VALUES (?, ?, ?, ?, ?)", ev)
    # The samples of the sweeps of the last 24 h + 1 min, every minute, all workers at 50 %,
    # in time order (row ids as the sweeps would have made them).
    con.execute("""WITH RECURSIVE k(n) AS (SELECT 1441 UNION ALL SELECT n - 1 FROM k WHERE n > 1)
        INSERT INTO util_samples(worker_id, at, gpu_util)
        SELECT w.id, ? - k.n * 60, 50.0 FROM k CROSS JOIN (SELECT id FROM workers ORDER BY id) w""",
                (now,))
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.close()
EOF
    # The previous sweep's listing (last_seen_at, the storage price in `hibernation`).
    GPUCTL_NOW=@$((sweep_now - 60)) "$bin" --quiet worker sync
    counts() { # DB
        python3 - "$1" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
q = lambda s: con.execute(s).fetchone()[0]
print(q("SELECT count(*) FROM workers"), q("SELECT count(*) FROM sessions WHERE ended_at IS NULL"),
      q("SELECT count(*) FROM events"), q("SELECT count(*) FROM util_samples"),
      q("SELECT count(*) FROM hibernation"))
EOF
    }
    read -r n_workers n_open n_events n_samples n_hib < <(counts "$GPUCTL_DB")
    db_mb=$(( $(stat -c %s "$GPUCTL_DB") / 1048576 ))
    if [[ $adopted != 5000 || $n_workers != 5000 || $n_samples != 7205000 ]]; then
        echo "bench/run.sh: sweep state file: $adopted adopted, $n_workers workers," \
            "$n_samples samples (expected 5000, 5000, 7205000)" >&2
        exit 1
    fi
    base=$GPUCTL_DB
    export GPUCTL_DB=$sdb GPUCTL_NOW=@$sweep_now
    restore="cp $(printf '%q' "$base") $(printf '%q' "$sdb"); rm -f $(printf '%q' "$sdb")-wal $(printf '%q' "$sdb")-shm; sync $(printf '%q' "$sdb"); curl -fsS -o /dev/null -X DELETE $surl/__control/log"
    # One sweep first: it must exit 0, list 5,000 instances in 200 pages, sample 5,000 workers,
    # decide nothing (all busy) and add its 5,000 samples (no hourly prune is due).
    bash -c "$restore"
    if ! sweep_json=$("$bin" hibernate-sweep --json); then
        echo "bench/run.sh: gpuctl hibernate-sweep failed: $sweep_json" >&2
        exit 1
    fi
    got=$(jq -c '[.accounts[0].instances, .accounts[0].pages, .samples, (.actions | length), (.errors | length)]' <<<"$sweep_json")
    read -r _ _ _ after _ < <(counts "$sdb")
    if [[ $got != '[5000,200,5000,0,0]' || $after != 7210000 ]]; then
        echo "bench/run.sh: hibernate-sweep gave [instances,pages,samples,actions,errors] = $got" \
            "and left $after samples; expected [5000,200,5000,0,0] and 7210000" >&2
        exit 1
    fi
    hyperfine -N --warmup 1 --runs "${BENCH_SWEEP_RUNS:-10}" --style basic \
        --prepare "bash -c $(printf '%q' "$restore")" \
        --export-json "$out/sweep-5000.json" -n sweep-5000 "$qbin --quiet hibernate-sweep" >&2
    printf '\n%-44s %10s %8s\n' "hibernation sweep (fake_vast, pace 0)" "median ms" "target"
    printf '%-44s %10s %8s\n' "gpuctl hibernate-sweep, 5,000 busy workers" \
        "$(median_ms "$out/sweep-5000.json")" "< 1000"
    printf '%-44s %10s %8s\n' "  its CPU time (user+sys, mean)" \
        "$(jq -r '.results[0] | (.user + .system) * 1000 | round' "$out/sweep-5000.json")" "-"
    printf 'state file: %s MB; %s workers, %s open sessions (7 days), %s events, %s samples (24 h + 1 min),\n' \
        "$db_mb" "$n_workers" "$n_open" "$n_events" "$n_samples"
    printf '%s hibernation rows; GPUCTL_NOW=@%s\n' "$n_hib" "$sweep_now"
fi

# ---- Shell completion: `gpuctl __complete workers` over 1,000 workers --------------------------
# What a TAB after `gpuctl worker show ` runs (completions/*): it must answer well within a key
# press, so the target is a median under 5 ms.
if [[ $cases == all || $cases == complete ]]; then
    dbc=$work/complete1000.db
    if command -v python3 >/dev/null; then
        fill_with_python "$dbc" 1000
    else
        fill_with_gpuctl "$dbc" 1000
    fi
    got=$(GPUCTL_DB=$dbc "$bin" __complete workers | wc -l)
    if [[ $got != 1000 ]]; then
        echo "bench/run.sh: __complete workers gave $got names, expected 1000" >&2
        exit 1
    fi
    GPUCTL_DB=$dbc hyperfine -N --warmup 10 --runs "$runs" --style basic \
        --export-json "$out/complete-1000.json" --command-name complete-1000 \
        "$qbin __complete workers" >&2
    printf '\n%-44s %10s %8s\n' "benchmark ($runs runs, 10 warm-up)" "median ms" "target"
    printf '%-44s %10s %8s\n' "gpuctl __complete workers, 1,000 workers" \
        "$(median_ms "$out/complete-1000.json")" "< 5"
fi

[[ -n ${BENCH_OUT:-} ]] && echo "hyperfine JSON exports: $out" >&2
exit 0
