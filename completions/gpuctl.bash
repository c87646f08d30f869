# bash completion for gpuctl                                   -*- shell-script -*-
# SPDX-License-Identifier: MIT
#
# Install: source this file (or: source <(gpuctl completion bash)), or copy it to
#   ~/.local/share/bash-completion/completions/gpuctl   (per user)
#   /usr/share/bash-completion/completions/gpuctl       (system)
# It needs nothing from the bash-completion package.
#
# Account and worker names and job ids come from `gpuctl __complete accounts|workers|jobs`, the
# strategies and time zones from `gpuctl __complete strategies|zones` (one value per line, maybe
# a tab and a description after it), run with the --db/--config given earlier on the line; if
# that fails, no values are offered.

# Value sets.
_gpuctl_providers="kaggle colab vast ssh"
_gpuctl_formats="table gantt json ics"
_gpuctl_reset_fields="weekly_gpu_hours daily_gpu_hours session_max shutdown_margin concurrent max_usd_per_day credentials all"
_gpuctl_order_keys="price reliability score gpu_ram inet_down num_gpus dlperf cuda"
_gpuctl_job_providers="kaggle ssh vast"
_gpuctl_job_states="queued dispatched running succeeded failed cancelled lost"
_gpuctl_event_types="job.submit job.dispatch job.running job.succeeded job.failed job.cancelled job.cancel-requested job.lost job.requeued job.dispatch-refused job.dispatch-unknown worker.online worker.offline deadline.warning deadline.stop deadline.past plan.start plan.reminder plan.save account.add account.set account.rm worker.add worker.rm worker.enable worker.disable session.start session.stop session.add quota-sync rent rent-failed start stop destroy vanished adopt idle_detected hibernated woke deleted schedule hibernate hibernate.config autoscale.start autoscale.joined autoscale.left autoscale.low autoscale.retire autoscale.retire-refused autoscale.retire-unknown autoscale.hibernate autoscale.release autoscale.boot-timeout autoscale.refused autoscale.hold"
_gpuctl_pools="vast ssh both"
_gpuctl_days="daily weekdays weekends mon-fri sat,sun mon tue wed thu fri sat sun"
_gpuctl_global_opts="--db --config --json -q --quiet --no-color --tz -v --verbose --version -h --help"
_gpuctl_global_value_opts=" --db --config --tz "
_gpuctl_policy_opts="--weekly-hours --daily-hours --session-max --shutdown-margin --concurrent --max-usd-per-day"

# The options of one command ("account add", "worker list", …), without the global ones.
_gpuctl_leaf_opts()
{
    case $1 in
    "account add") echo "--provider --credentials $_gpuctl_policy_opts" ;;
    "account set") echo "--credentials --reset $_gpuctl_policy_opts" ;;
    "account rm") echo "--force" ;;
    "worker add") echo "--account --gpu --gpu-count --host --identity --instance-id --price" ;;
    "worker list") echo "--account --provider" ;;
    "worker rm") echo "--force" ;;
    "worker sync") echo "--account --adopt" ;;
    "worker destroy") echo "-y --yes" ;;
    "session start") echo "--at" ;;
    "session stop") echo "--at --reason" ;;
    "session add") echo "--start --end" ;;
    "session list") echo "--worker --since" ;;
    quota) echo "--warnings --sync" ;;
    status) echo "--watch --interval" ;;
    schedule) echo "--strategy --from --days --keep --format --providers --save --once --watch --tick --dry-run --notify --autoscale" ;;
    autoscale) echo "--dask --scheduler --min --max --step-up --scale-down-after --pool --account --once --watch --tick --dry-run" ;;
    "job submit") echo "--script --notebook --command --provider --worker --gpu --name --priority --max-attempts --timeout --input --output --accelerator --dataset --internet" ;;
    "job list") echo "--state" ;;
    "job logs") echo "-f --follow" ;;
    events) echo "--since --type --job --worker" ;;
    "events prune") echo "--older-than" ;;
    hibernate-sweep) echo "--dry-run" ;;
    "hibernate config") echo "--enable --disable --idle-below --idle-for --grace --delete-after" ;;
    "hibernate schedule") echo "--wake --sleep --days --clear" ;; # --tz: a global option too
    "hibernate watchdog") echo "--script" ;;
    "hibernate stats") echo "--since" ;;
    wake) echo "--wait --gpu --region --max-price --destroy-old --watchdog" ;;
    "offers search") echo "--gpu --num-gpus --max-price --region --min-reliability --order --limit --disk --account" ;;
    "offers rent") echo "--name --account --image --disk --onstart --env --max-price --wait --watchdog" ;;
    esac
}

# Whether option $2 of command $1 takes a value.
_gpuctl_takes_value()
{
    case " $_gpuctl_global_value_opts " in *" $2 "*) return 0 ;; esac
    case "$1:$2" in
    "account add:--provider" | "account add:--credentials" | \
        "account set:--credentials" | "account set:--reset" | \
        account\ add:--weekly-hours | account\ add:--daily-hours | account\ add:--session-max | \
        account\ add:--shutdown-margin | account\ add:--concurrent | account\ add:--max-usd-per-day | \
        account\ set:--weekly-hours | account\ set:--daily-hours | account\ set:--session-max | \
        account\ set:--shutdown-margin | account\ set:--concurrent | account\ set:--max-usd-per-day | \
        "worker add:--account" | "worker add:--gpu" | "worker add:--gpu-count" | "worker add:--host" | \
        "worker add:--identity" | "worker add:--instance-id" | "worker add:--price" | \
        "worker list:--account" | "worker list:--provider" | \
        "session start:--at" | "session stop:--at" | "session stop:--reason" | \
        "session add:--start" | "session add:--end" | \
        "session list:--worker" | "session list:--since" | "status:--interval" | \
        "schedule:--strategy" | "schedule:--from" | "schedule:--days" | "schedule:--keep" | \
        "schedule:--format" | "schedule:--providers" | "schedule:--tick" | "schedule:--notify" | \
        "job submit:--script" | "job submit:--notebook" | "job submit:--command" | \
        "job submit:--provider" | "job submit:--worker" | "job submit:--gpu" | "job submit:--name" | \
        "job submit:--priority" | "job submit:--max-attempts" | "job submit:--timeout" | \
        "job submit:--input" | "job submit:--output" | "job submit:--accelerator" | \
        "job submit:--dataset" | "job list:--state" | \
        "events:--since" | "events:--type" | "events:--job" | "events:--worker" | \
        "events prune:--older-than" | \
        "hibernate config:--idle-below" | "hibernate config:--idle-for" | \
        "hibernate config:--grace" | "hibernate config:--delete-after" | \
        "hibernate schedule:--wake" | "hibernate schedule:--sleep" | "hibernate schedule:--days" | \
        "hibernate stats:--since" | \
        "wake:--gpu" | "wake:--region" | "wake:--max-price" | \
        "worker sync:--account" | \
        "offers search:--gpu" | "offers search:--num-gpus" | "offers search:--max-price" | \
        "offers search:--region" | "offers search:--min-reliability" | "offers search:--order" | \
        "offers search:--limit" | "offers search:--disk" | "offers search:--account" | \
        "offers rent:--name" | "offers rent:--account" | "offers rent:--image" | "offers rent:--disk" | \
        "offers rent:--onstart" | "offers rent:--env" | "offers rent:--max-price" | \
        "autoscale:--dask" | "autoscale:--scheduler" | "autoscale:--min" | "autoscale:--max" | \
        "autoscale:--step-up" | "autoscale:--scale-down-after" | "autoscale:--pool" | \
        "autoscale:--account" | "autoscale:--tick")
        return 0 ;;
    esac
    return 1
}

# COMPREPLY = the words of $1 (split on blanks) that start with $2.
_gpuctl_reply()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Completes the last item of a comma-separated provider list ("kaggle,co" -> "kaggle,colab"),
# leaving out the providers already in it.
_gpuctl_provider_list()
{
    local cur=$1 head='' last=$1 p
    if [[ $cur == *,* ]]; then
        head=${cur%,*},
        last=${cur##*,}
    fi
    local -a left=()
    for p in $_gpuctl_providers; do
        [[ ,$head == *",$p,"* ]] || left+=("$p")
    done
    mapfile -t COMPREPLY < <(compgen -P "$head" -W "${left[*]}" -- "$last")
}

# Completes the last item of a comma-separated --order list ("price,-rel" -> "price,-reliability"),
# keeping its '-' (descending) and leaving out the keys already in it.
_gpuctl_order_list()
{
    local cur=$1 head='' last=$1 sign='' k
    if [[ $cur == *,* ]]; then
        head=${cur%,*},
        last=${cur##*,}
    fi
    if [[ $last == -* ]]; then
        sign=-
        last=${last#-}
    fi
    local -a left=()
    for k in $_gpuctl_order_keys; do
        [[ ,$head == *",$k,"* || ,$head == *",-$k,"* ]] || left+=("$k")
    done
    mapfile -t COMPREPLY < <(compgen -P "$head$sign" -W "${left[*]}" -- "$last")
}

# Expands a leading ~ or ~user the way the shell would (COMP_WORDS holds it unexpanded).
_gpuctl_expand_tilde()
{
    local p=$1
    # shellcheck disable=SC2088 # these match a literal "~": COMP_WORDS holds it unexpanded
    case $p in
    "~") p=$HOME ;;
    "~/"*) p=$HOME/${p#"~/"} ;;
    "~"*)
        local user=${p%%/*} rest=
        [[ $p == */* ]] && rest=/${p#*/}
        local home
        home=$(getent passwd "${user#"~"}" 2>/dev/null | cut -d: -f6)
        [[ -n $home ]] && p=$home$rest
        ;;
    esac
    printf '%s' "$p"
}

# Values from `gpuctl __complete KIND` (accounts, workers, jobs, strategies, zones), one per
# line without their descriptions, honouring --db/--config seen on the line.
_gpuctl_names()
{
    local kind=$1 bin=${COMP_WORDS[0]}
    bin=$(_gpuctl_expand_tilde "$bin")
    if [[ $bin == */* ]]; then
        [[ -x $bin ]] || return 0
    else
        type -P -- "$bin" >/dev/null 2>&1 || return 0
    fi
    local -a args=()
    [[ -n ${_gpuctl_db-} ]] && args+=(--db "$(_gpuctl_expand_tilde "$_gpuctl_db")")
    [[ -n ${_gpuctl_cfg-} ]] && args+=(--config "$(_gpuctl_expand_tilde "$_gpuctl_cfg")")
    local out line
    out=$("$bin" "${args[@]}" __complete "$kind" 2>/dev/null </dev/null) || return 0
    while IFS= read -r line; do
        printf '%s\n' "${line%%$'\t'*}"
    done <<<"$out"
}

# Completes a time zone name one level at a time ("Eu" -> "Europe/", "Europe/Be" ->
# "Europe/Berlin" …), from the zones gpuctl itself accepts (`gpuctl __complete zones`).
_gpuctl_zones()
{
    local cur=$1 dir='' z rest
    [[ $cur == */* ]] && dir=${cur%/*}/
    local -A seen=()
    local -a out=()
    while IFS= read -r z; do
        [[ -n $z && $z == "$cur"* ]] || continue
        rest=${z#"$dir"}
        [[ $rest == */* ]] && rest=${rest%%/*}/
        [[ -n ${seen[$rest]-} ]] && continue
        seen[$rest]=1
        out+=("$dir$rest")
    done < <(_gpuctl_names zones)
    COMPREPLY=("${out[@]}")
    # A directory ("Europe/"): no space, so the next TAB goes on into it.
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace 2>/dev/null
    fi
}

_gpuctl()
{
    local -a words=("${COMP_WORDS[@]}")
    local cword=$COMP_CWORD
    local cur=${words[cword]-}

    # COMP_WORDBREAKS splits "--db=FILE" into "--db" "=" "FILE": rejoin such words.
    local -a w=()
    local i j=0 newcword=0
    for ((i = 0; i < ${#words[@]}; i++)); do
        if [[ ${words[i]} == "=" && ${#w[@]} -gt 0 && ${w[j - 1]} == --* && ${w[j - 1]} != *=* ]]; then
            w[j - 1]+="="
            ((i == cword)) && newcword=$((j - 1))
            if ((i + 1 < ${#words[@]})) && ((i + 1 <= cword)); then
                w[j - 1]+=${words[i + 1]}
                ((i + 1 == cword)) && newcword=$((j - 1))
                ((i++))
            fi
            continue
        fi
        w[j]=${words[i]}
        ((i == cword)) && newcword=$j
        ((j++))
    done
    cword=$newcword
    cur=${w[cword]-}

    # Walk the words before the cursor: command path, option values, positionals.
    # _gpuctl_db/_gpuctl_cfg are seen by _gpuctl_names (bash scoping is dynamic).
    local cmd='' sub='' npos=0 prev_opt='' in_reset=0 word _gpuctl_db='' _gpuctl_cfg=''
    for ((i = 1; i < cword; i++)); do
        word=${w[i]}
        if [[ -n $prev_opt ]]; then
            case $prev_opt in
            --db) _gpuctl_db=$word ;;
            --config) _gpuctl_cfg=$word ;;
            --reset) in_reset=1 ;;
            esac
            prev_opt=
            continue
        fi
        case $word in
        --db=*) _gpuctl_db=${word#--db=}; in_reset=0; continue ;;
        --config=*) _gpuctl_cfg=${word#--config=}; in_reset=0; continue ;;
        --reset=*) in_reset=1; continue ;;
        --*=*) in_reset=0; continue ;;
        -*)
            in_reset=0
            local leaf=$cmd
            [[ -n $sub ]] && leaf="$cmd $sub"
            _gpuctl_takes_value "$leaf" "$word" && prev_opt=$word
            continue
            ;;
        esac
        # A bare word after --reset FIELD is another field (the option takes several).
        if ((in_reset)); then
            continue
        fi
        if [[ -z $cmd ]]; then
            cmd=$word
        elif [[ -z $sub && $cmd =~ ^(config|account|worker|session|offers|job|hibernate|events)$ ]]; then
            sub=$word
        else
            ((npos++))
        fi
    done
    local leaf=$cmd
    [[ -n $sub ]] && leaf="$cmd $sub"

    # The value of an option.
    local opt=$prev_opt value=$cur
    if [[ -z $opt && $cur == --*=* ]]; then
        opt=${cur%%=*}
        value=${cur#*=}
        _gpuctl_takes_value "$leaf" "$opt" || opt=
    fi
    if [[ -n $opt ]]; then
        # Without '=' in COMP_WORDBREAKS the whole "--opt=value" word is replaced.
        local prefix=
        [[ ${COMP_WORDS[COMP_CWORD]} == --*=* ]] && prefix="$opt="
        COMPREPLY=()
        case $opt in
        --db | --config | --credentials | --onstart | --identity | --script | --notebook)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$value")
            ;;
        --input | --output)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$value")
            ;;
        --tz) _gpuctl_zones "$value" ;;
        --provider)
            if [[ $leaf == "job submit" ]]; then
                _gpuctl_reply "$_gpuctl_job_providers" "$value"
            else
                _gpuctl_reply "$_gpuctl_providers" "$value"
            fi
            ;;
        --state) _gpuctl_reply "$_gpuctl_job_states" "$value" ;;
        --type) _gpuctl_reply "$_gpuctl_event_types" "$value" ;;
        --providers) _gpuctl_provider_list "$value" ;;
        --order) _gpuctl_order_list "$value" ;;
        --strategy) _gpuctl_reply "$(_gpuctl_names strategies)" "$value" ;;
        --format) _gpuctl_reply "$_gpuctl_formats" "$value" ;;
        --reset) _gpuctl_reply "$_gpuctl_reset_fields" "$value" ;;
        --account) _gpuctl_reply "$(_gpuctl_names accounts)" "$value" ;;
        --worker) _gpuctl_reply "$(_gpuctl_names workers)" "$value" ;;
        --job) _gpuctl_reply "$(_gpuctl_names jobs)" "$value" ;;
        --at | --start | --end | --since | --from) _gpuctl_reply "now" "$value" ;;
        --days) [[ $leaf == "hibernate schedule" ]] && _gpuctl_reply "$_gpuctl_days" "$value" ;;
        --delete-after) _gpuctl_reply "never" "$value" ;;
        --pool) _gpuctl_reply "$_gpuctl_pools" "$value" ;;
        esac
        [[ -n $prefix && ${#COMPREPLY[@]} -gt 0 ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        return 0
    fi

    # More fields after --reset FIELD, or an option.
    if ((in_reset)) && [[ $cur != -* ]]; then
        _gpuctl_reply "$_gpuctl_reset_fields" "$cur"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _gpuctl_reply "$(_gpuctl_leaf_opts "$leaf") $_gpuctl_global_opts" "$cur"
        return 0
    fi

    # Command words and positionals.
    local words_here=
    case $leaf in
    "") words_here="version init config account worker session quota schedule status offers job events hibernate-sweep hibernate wake autoscale completion" ;;
    completion) ((npos == 0)) && words_here="bash zsh fish" ;;
    config) words_here="show path" ;;
    account) words_here="add set list show check rm" ;;
    worker) words_here="add list show rm sync start stop destroy enable disable" ;;
    session) words_here="start stop add list" ;;
    offers) words_here="search rent" ;;
    job) words_here="submit list show cancel logs" ;;
    hibernate) words_here="config now schedule watchdog stats" ;;
    events) words_here="prune" ;;
    "account set" | "account show" | "account check" | "account rm")
        ((npos == 0)) && words_here=$(_gpuctl_names accounts) ;;
    "worker show" | "worker rm" | "worker start" | "worker stop" | "worker destroy" | \
        "worker enable" | "worker disable" | \
        "session start" | "session stop" | "session add" | \
        "hibernate config" | "hibernate now" | "hibernate schedule" | "hibernate watchdog" | wake)
        ((npos == 0)) && words_here=$(_gpuctl_names workers) ;;
    quota)
        ((npos == 0)) && words_here=$(_gpuctl_names accounts) ;;
    "job show" | "job cancel" | "job logs")
        ((npos == 0)) && words_here=$(_gpuctl_names jobs) ;;
    esac
    _gpuctl_reply "$words_here" "$cur"
    return 0
}

complete -F _gpuctl gpuctl
