#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checks the files of examples/ and runs every gpuctl command in them against a temporary state
# (HOME, XDG dirs, state file and config all in a temp dir; a fixed clock; no provider accounts,
# so nothing goes online).
#
#   examples_check.sh crontab|systemd|config|jq GPUCTL SOURCE_DIR
#
#   crontab  every line of examples/crontab: five valid time fields, no '%' in the command (cron
#            would make it a newline), and the lines the README promises (sweep and scheduler
#            tick every minute, quota warnings hourly); each command, with gpuctl replaced by
#            the binary under test, exits 0 and prints nothing (cron would mail it) on an empty
#            state; the quota line mails the warning table once a session is past its deadline.
#   systemd  examples/systemd/*.service|*.timer: `systemd-analyze verify` where it exists (with
#            ExecStart pointing at the binary under test), and this script's own field check
#            everywhere (sections, ExecStart, the timer's schedule and service); every ExecStart
#            command line runs against a temp state (a --watch loop is stopped with SIGTERM after
#            its first tick and must exit 0).
#   config   examples/config.toml loads as it is (every key at its default) and uncommented (every
#            key from the file, none missing).
#   jq       examples/jq.sh runs against a small temp fleet and prints what it promises.
set -euo pipefail
mode=$1 bin=$2 src=$3
[[ -x $bin && $bin == /* ]] || { echo "examples_check: GPUCTL must be an absolute path: $bin" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "examples_check $mode: $*" >&2
    exit 1
}

# A fresh temp home: sets $home; run_env prints the environment a command gets (env -i).
n_home=0
fresh_home() {
    n_home=$((n_home + 1))
    home=$tmp/home$n_home
    mkdir -p "$home/.config/gpuctl"
    printf '[providers.vast]\npace = "0s"\n' >"$home/.config/gpuctl/config.toml"
}
run_env=()
set_env() {
    run_env=(env -i "HOME=$home" "PATH=/usr/bin:/bin" "TZ=UTC" "GPUCTL_NOW=${now:-2026-11-30T08:00:00Z}"
        "XDG_STATE_HOME=$home/.local/state" "XDG_CONFIG_HOME=$home/.config"
        "XDG_DATA_HOME=$home/.local/share")
}
gp() { # gpuctl ARGS... in the temp home
    set_env
    "${run_env[@]}" "$bin" "$@"
}
# The command line with the word gpuctl (where it is a command) replaced by the binary.
with_binary() {
    sed -E "s#(^|[[:space:];|&(])gpuctl([[:space:]]|\$)#\\1$bin\\2#g" <<<"$1"
}

# ---- crontab ------------------------------------------------------------------------------------
# One time field: a comma list of *, N, N-M, each optionally /STEP, within LO..HI.
check_field() { # VALUE LO HI
    local v=$1 lo=$2 hi=$3 item base step a b
    local -a items
    IFS=, read -ra items <<<"$v"
    ((${#items[@]} > 0)) || return 1
    for item in "${items[@]}"; do
        base=${item%%/*}
        step=
        [[ $item == */* ]] && step=${item#*/}
        [[ -z $step || $step =~ ^[1-9][0-9]*$ ]] || return 1
        [[ $base == '*' ]] && continue
        [[ $base =~ ^([0-9]+)(-([0-9]+))?$ ]] || return 1
        a=$((10#${BASH_REMATCH[1]}))
        b=$((10#${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}))
        ((a >= lo && b <= hi && a <= b)) || return 1
    done
}

check_crontab() {
    local file=$src/examples/crontab line n=0 min hour dom mon dow cmd
    local -a commands=() schedules=()
    # The checker itself rejects what it must.
    check_field '*/5' 0 59 && check_field '0,30' 0 59 && check_field '1-5' 0 7 ||
        fail "field check rejects valid fields"
    ! check_field '60' 0 59 && ! check_field '5-1' 0 59 && ! check_field '*/0' 0 59 &&
        ! check_field 'x' 0 59 && ! check_field '' 0 59 || fail "field check accepts invalid fields"
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
            [[ $line == PATH=* ]] || fail "line $n: unexpected variable: $line"
            continue
        fi
        read -r min hour dom mon dow cmd <<<"$line"
        check_field "$min" 0 59 && check_field "$hour" 0 23 && check_field "$dom" 1 31 &&
            check_field "$mon" 1 12 && check_field "$dow" 0 7 || fail "line $n: bad time fields: $line"
        [[ -n $cmd ]] || fail "line $n: no command"
        [[ $cmd != *%* ]] || fail "line $n: '%' in the command (cron makes it a newline): $cmd"
        [[ $cmd =~ (^|[[:space:]\(])gpuctl[[:space:]] ]] || fail "line $n: not a gpuctl command: $cmd"
        commands+=("$cmd")
        schedules+=("$min $hour $dom $mon $dow")
    done <"$file"
    # The lines the README and the issue promise.
    local i want found
    for want in "* * * * *|gpuctl --quiet hibernate-sweep" "* * * * *|gpuctl --quiet schedule --once" \
        "0 * * * *|quota --warnings"; do
        found=0
        for i in "${!commands[@]}"; do
            [[ ${schedules[i]} == "${want%%|*}" && ${commands[i]} == *"${want#*|}"* ]] && found=1
        done
        ((found)) || fail "no line '${want%%|*} ... ${want#*|}'"
    done
    # Each command on an empty state (after `gpuctl init`, as the crontab's header asks): exit 0
    # and silent (cron mails any output).
    for cmd in "${commands[@]}"; do
        fresh_home
        gp --quiet init
        set_env
        local out rc=0
        out=$("${run_env[@]}" sh -c "$(with_binary "$cmd")" 2>&1) || rc=$?
        [[ $rc == 0 ]] || fail "exit $rc: $cmd: $out"
        [[ -z $out ]] || fail "prints something on an empty state (cron would mail it): $cmd: $out"
        echo "ok: $cmd"
    done
    # The quota line mails the warnings once a session is past its deadline, and the same state
    # makes `quota --warnings` exit 1.
    fresh_home
    gp --quiet account add alice --provider kaggle
    gp --quiet worker add k1 --account alice --gpu T4
    gp --quiet session start k1 --at 2026-11-30T06:00:00Z
    local quota_line
    for cmd in "${commands[@]}"; do
        [[ $cmd == *"quota --warnings"* ]] && quota_line=$cmd
    done
    now=2026-11-30T20:00:00Z set_env
    local out rc=0
    out=$("${run_env[@]}" sh -c "$(with_binary "$quota_line")" 2>&1) || rc=$?
    [[ $rc == 0 && $out == *"PAST DEADLINE"* && $out == *k1* ]] ||
        fail "the quota line does not report a session past its deadline (exit $rc): $out"
    rc=0
    "${run_env[@]}" "$bin" quota --warnings >/dev/null 2>&1 || rc=$?
    [[ $rc == 1 ]] || fail "quota --warnings with a session past its deadline exits $rc, not 1"
    echo "ok: quota line mails a session past its deadline"
}

# ---- systemd ------------------------------------------------------------------------------------
# The value of KEY in FILE (every occurrence, one per line), comments and sections ignored.
unit_values() { # FILE KEY
    sed -n -E "s/^$2=(.*)\$/\\1/p" "$1"
}
unit_sections() { # FILE
    grep -E '^\[[A-Za-z]+\]$' "$1" | tr -d '[]' | tr '\n' ' '
}

check_systemd() {
    local dir=$src/examples/systemd unit base n
    local -a units=("$dir"/*.service "$dir"/*.timer)
    ((${#units[@]} >= 3)) || fail "expected the sweep service and timer and the schedule service"
    # Field check (always): every line a comment, a [Section] or Key=Value; the sections each kind
    # needs; ExecStart= an absolute or %h path to gpuctl; a timer's schedule and its service.
    local -a triggered=()
    for unit in "${units[@]}"; do
        base=${unit##*/}
        n=0
        while IFS= read -r line || [[ -n $line ]]; do
            n=$((n + 1))
            [[ $line =~ ^[[:space:]]*([#\;]|$) || $line =~ ^\[[A-Za-z]+\]$ || $line =~ ^[A-Z][A-Za-z]*=. ]] ||
                fail "$base:$n: not a comment, section or Key=Value: $line"
        done <"$unit"
        local secs
        secs=$(unit_sections "$unit")
        [[ $secs == *"Unit "* ]] || fail "$base: no [Unit]"
        [[ -n $(unit_values "$unit" Description) ]] || fail "$base: no Description="
        case $base in
        *.timer)
            [[ $secs == *"Timer "* && $secs == *"Install "* ]] || fail "$base: needs [Timer] and [Install]"
            local cal active svc
            cal=$(unit_values "$unit" OnCalendar)
            active=$(unit_values "$unit" OnUnitActiveSec)
            [[ -n $cal || -n $active ]] || fail "$base: neither OnCalendar= nor OnUnitActiveSec="
            if [[ -n $cal ]] && command -v systemd-analyze >/dev/null; then
                systemd-analyze calendar "$cal" >/dev/null 2>&1 || fail "$base: OnCalendar=$cal does not parse"
            fi
            [[ -z $cal || $cal =~ ^[-*0-9:,/.\ A-Za-z]+$ ]] || fail "$base: OnCalendar=$cal"
            svc=$(unit_values "$unit" Unit)
            svc=${svc:-${base%.timer}.service}
            [[ -f $dir/$svc ]] || fail "$base: triggers $svc, which is not in examples/systemd"
            triggered+=("$svc")
            [[ -n $(unit_values "$unit" WantedBy) ]] || fail "$base: no WantedBy="
            ;;
        *.service)
            [[ $secs == *"Service "* ]] || fail "$base: no [Service]"
            local execs
            execs=$(unit_values "$unit" ExecStart)
            [[ $(wc -l <<<"$execs") == 1 && -n $execs ]] || fail "$base: needs exactly one ExecStart="
            [[ $execs =~ ^(/|%h/)[^[:space:]]*/gpuctl([[:space:]]|$) ]] ||
                fail "$base: ExecStart= is not an absolute or %h path to gpuctl: $execs"
            local type
            type=$(unit_values "$unit" Type)
            [[ $type =~ ^(oneshot|exec|simple)$ ]] || fail "$base: Type=$type"
            ;;
        esac
    done
    for unit in "$dir"/*.service; do
        base=${unit##*/}
        local t is_triggered=0
        for t in "${triggered[@]}"; do [[ $t == "$base" ]] && is_triggered=1; done
        ((is_triggered)) || [[ -n $(unit_values "$unit" WantedBy) ]] ||
            fail "$base: started by no timer and has no [Install] WantedBy="
    done
    echo "ok: field check of ${#units[@]} units"

    # systemd's own check, where it is installed: the units as they are but for ExecStart (the
    # binary under test), Documentation= not looked up (man pages are not installed here).
    if command -v systemd-analyze >/dev/null; then
        mkdir -p "$tmp/units"
        for unit in "${units[@]}"; do
            sed -E "s#^(ExecStart=)[^[:space:]]*/gpuctl#\\1$bin#" "$unit" >"$tmp/units/${unit##*/}"
        done
        local err rc=0
        err=$(cd "$tmp/units" && systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) || rc=$?
        [[ $rc == 0 && -z $err ]] || fail "systemd-analyze verify (exit $rc): $err"
        echo "ok: systemd-analyze verify"
    else
        echo "skip: systemd-analyze is not installed (the field check above ran)"
    fi

    # Every ExecStart= command line against a temp state (gpuctl init first, as the README says).
    for unit in "$dir"/*.service; do
        base=${unit##*/}
        fresh_home
        gp --quiet init
        local line
        line=$(unit_values "$unit" ExecStart)
        line=${line//%h/$home}
        local -a argv
        read -ra argv <<<"$line"
        argv[0]=$bin
        set_env
        if [[ $line == *" --watch"* ]]; then
            # A loop: started, stopped with SIGTERM once it holds the tick lock (its first tick),
            # and it must exit 0 (systemctl stop).
            "${run_env[@]}" "${argv[@]}" >"$tmp/out" 2>&1 &
            local pid=$! i
            for ((i = 0; i < 100; i++)); do
                [[ -e $home/.local/state/gpuctl/state.db.tick.lock ]] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            [[ -e $home/.local/state/gpuctl/state.db.tick.lock ]] || fail "$base: no tick within 10 s: $(cat "$tmp/out")"
            kill -TERM "$pid"
            local rc=0
            wait "$pid" || rc=$?
            [[ $rc == 0 ]] || fail "$base: exit $rc after SIGTERM: ${argv[*]}: $(cat "$tmp/out")"
        else
            local rc=0 out
            out=$("${run_env[@]}" "${argv[@]}" 2>&1) || rc=$?
            [[ $rc == 0 ]] || fail "$base: exit $rc: ${argv[*]}: $out"
        fi
        echo "ok: $base runs: ${argv[*]#"$bin"}"
    done
}

# ---- config.toml --------------------------------------------------------------------------------
check_config() {
    local file=$src/examples/config.toml keys
    fresh_home
    local out
    out=$(gp --config "$file" config show --json) || fail "config show with examples/config.toml failed"
    keys=$(grep -o '"source":' <<<"$out" | wc -l)
    ((keys >= 40)) || fail "config show lists $keys keys"
    [[ $(grep -o '"source":"default"' <<<"$out" | wc -l) == "$keys" ]] ||
        fail "examples/config.toml (all commented) sets a key: $out"
    # Uncommented: every key comes from the file, each with its default value.
    sed -E 's/^# ([a-z_]+ = )/\1/' "$file" >"$tmp/config.toml"
    local set_lines
    set_lines=$(grep -cE '^[a-z_]+ = ' "$tmp/config.toml")
    [[ $set_lines == "$keys" ]] || fail "examples/config.toml has $set_lines keys, config show $keys"
    local un
    un=$(gp --config "$tmp/config.toml" config show --json) || fail "uncommented examples/config.toml does not load"
    [[ $(grep -o '"source":"file"' <<<"$un" | wc -l) == "$keys" ]] ||
        fail "uncommented, not every key comes from the file: $un"
    # The values are the defaults: the same as the commented file's, but for the source.
    [[ ${un//\"source\":\"file\"/\"source\":\"default\"} == "$out" ]] ||
        fail "uncommented values differ from the defaults"
    echo "ok: examples/config.toml loads ($keys keys), and uncommented"
}

# ---- jq.sh --------------------------------------------------------------------------------------
check_jq() {
    command -v jq >/dev/null || fail "jq is not installed (scripts/setup installs it)"
    fresh_home
    local db=$tmp/jq.db
    gpdb() {
        set_env
        "${run_env[@]}" "GPUCTL_DB=$db" "$bin" "$@"
    }
    gpdb --quiet account add alice --provider kaggle
    gpdb --quiet account add lab --provider ssh
    gpdb --quiet worker add k1 --account alice --gpu T4
    gpdb --quiet worker add box1 --account lab --host me@box1:22 --gpu A100
    gpdb --quiet session start k1 --at 2026-11-30T07:00:00Z
    gpdb --quiet job submit --worker box1 --command 'nvidia-smi' --name smoke >/dev/null
    set_env
    local out rc=0
    out=$("${run_env[@]}" "GPUCTL_DB=$db" "GPUCTL=$bin" bash "$src/examples/jq.sh" 2>&1) || rc=$?
    [[ $rc == 0 ]] || fail "jq.sh exit $rc: $out"
    # The online worker, the queued job and the plan's figures are in it.
    grep -A1 -x '# workers that are online, one name per line' <<<"$out" | grep -qx k1 ||
        fail "jq.sh does not list k1 as online: $out"
    grep -qE $'^1\tsmoke\t' <<<"$out" || fail "jq.sh does not list the queued job: $out"
    grep -q '"ceiling"' <<<"$out" || fail "jq.sh does not print the plan's ceiling: $out"
    [[ ! -e $home/.local/state/gpuctl/state.db ]] || fail "jq.sh used the default state file"
    echo "ok: examples/jq.sh"
}

case $mode in
crontab) check_crontab ;;
systemd) check_systemd ;;
config) check_config ;;
jq) check_jq ;;
*) echo "usage: examples_check.sh crontab|systemd|config|jq GPUCTL SOURCE_DIR" >&2; exit 2 ;;
esac
