# fish completion for gpuctl
# SPDX-License-Identifier: MIT
#
# Install: copy it to
#   ~/.config/fish/completions/gpuctl.fish                   (per user)
#   /usr/share/fish/vendor_completions.d/gpuctl.fish         (system)
# or source it: gpuctl completion fish | source
#
# Account and worker names and job ids come from `gpuctl __complete accounts|workers|jobs`, the
# strategies and time zones from `gpuctl __complete strategies|zones` (one value per line, maybe
# a tab and a description after it, as fish shows it), run with the --db/--config given earlier
# on the line; if that fails, no values are offered.
# Each command's options are on lines conditioned by `__gpuctl_at COMMAND [SUBCOMMAND]`.

# The options that take a value, global or of some command (--script only for job submit).
set -g __gpuctl_value_opts --db --config --tz --provider --credentials --reset \
    --weekly-hours --daily-hours --session-max --shutdown-margin --concurrent --max-usd-per-day \
    --account --gpu --gpu-count --host --identity --instance-id --price --at --reason --start \
    --end --worker --since --interval --strategy --from --days --keep --format --providers --tick --notify \
    --notebook --command --name --priority --max-attempts --timeout --input --output \
    --accelerator --dataset --state --type --job --older-than --idle-below --idle-for --grace \
    --delete-after --wake --sleep --region --max-price --num-gpus --min-reliability --order \
    --limit --disk --image --onstart --env
set -g __gpuctl_groups config account worker session offers job hibernate events

# The command words on the line before the cursor: "worker show", "quota", … then, after a
# tab, the positional arguments given so far.
function __gpuctl_words
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path
    set -l args
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case '--*=*'
                continue
            case '--script'
                test "$path" = "job submit"; and set skip 1
                continue
            case '-*'
                contains -- $t $__gpuctl_value_opts; and set skip 1
                continue
        end
        if test (count $path) -eq 0
            set path $t
        else if test (count $path) -eq 1; and contains -- $path[1] $__gpuctl_groups
            # events takes options and one subcommand: only "prune" makes it a path.
            if test $path[1] != events; or test $t = prune
                set -a path $t
            else
                set -a args $t
            end
        else
            set -a args $t
        end
    end
    printf '%s\n' "$path"
    test (count $args) -gt 0; and printf '%s\n' $args
end

# True when the command path is exactly the arguments ("" = no command yet).
function __gpuctl_at
    set -l w (__gpuctl_words)
    test "$w[1]" = "$argv"
end

# True when the command path is the arguments and no positional argument is given yet.
function __gpuctl_at_pos
    set -l w (__gpuctl_words)
    test "$w[1]" = "$argv"; and test (count $w) -le 1
end

# Names from `gpuctl __complete KIND`, honouring --db/--config seen on the line.
function __gpuctl_names
    set -l tokens (commandline -opc)
    set -l bin $tokens[1]
    set -l args
    set -l n (count $tokens)
    for i in (seq 2 $n)
        switch $tokens[$i]
            case --db --config
                if test $i -lt $n
                    set -a args $tokens[$i] $tokens[(math $i + 1)]
                end
            case '--db=*' '--config=*'
                set -a args (string split -m1 = -- $tokens[$i])
        end
    end
    command -q $bin; or test -x "$bin"; or return 0
    command $bin $args __complete $argv[1] 2>/dev/null </dev/null
end

complete -c gpuctl -f

# Global options (CLI11 takes them after the command too).
complete -c gpuctl -l db -r -F -d 'state file (default $XDG_STATE_HOME/gpuctl/state.db)'
complete -c gpuctl -l config -r -F -d 'config file (default $XDG_CONFIG_HOME/gpuctl/config.toml)'
complete -c gpuctl -l json -d 'print one JSON document on stdout'
complete -c gpuctl -s q -l quiet -d 'no confirmation messages'
complete -c gpuctl -l no-color -d 'no colour (also NO_COLOR)'
complete -c gpuctl -n 'not __gpuctl_at hibernate schedule' -l tz -x -a '(__gpuctl_names zones)' -d 'display time zone (IANA name)'
complete -c gpuctl -s v -l verbose -d 'log provider calls on stderr (secrets redacted)'
complete -c gpuctl -n '__gpuctl_at ""' -l version -d 'print the version'
complete -c gpuctl -s h -l help -d 'print help and exit'

# Commands.
complete -c gpuctl -n '__gpuctl_at ""' -a version -d 'print the version'
complete -c gpuctl -n '__gpuctl_at ""' -a init -d 'create the state file (harmless when it exists)'
complete -c gpuctl -n '__gpuctl_at ""' -a config -d 'show the effective configuration and its paths'
complete -c gpuctl -n '__gpuctl_at ""' -a account -d 'register provider accounts and their quotas'
complete -c gpuctl -n '__gpuctl_at ""' -a worker -d 'register the GPU machines and notebooks you use'
complete -c gpuctl -n '__gpuctl_at ""' -a session -d 'record GPU sessions (the quota ledger)'
complete -c gpuctl -n '__gpuctl_at ""' -a quota -d 'quota bands and remaining hours per account'
complete -c gpuctl -n '__gpuctl_at ""' -a schedule -d 'plan sessions within the quotas, or run the scheduler'
complete -c gpuctl -n '__gpuctl_at ""' -a status -d 'pool summary: workers, quota bands, usable hours'
complete -c gpuctl -n '__gpuctl_at ""' -a offers -d 'search and rent vast.ai GPU offers'
complete -c gpuctl -n '__gpuctl_at ""' -a job -d 'queue GPU jobs; the scheduler runs them'
complete -c gpuctl -n '__gpuctl_at ""' -a events -d 'what gpuctl did automatically, and why'
complete -c gpuctl -n '__gpuctl_at ""' -a hibernate-sweep -d 'hibernate idle vast.ai workers (for cron)'
complete -c gpuctl -n '__gpuctl_at ""' -a hibernate -d 'idle rules, schedules and savings of vast.ai workers'
complete -c gpuctl -n '__gpuctl_at ""' -a wake -d 'start a hibernated vast.ai worker again'
complete -c gpuctl -n '__gpuctl_at ""' -a autoscale -d 'size a Dask cluster from its demand'
complete -c gpuctl -n '__gpuctl_at ""' -a completion -d 'print the shell completion script'

# completion
complete -c gpuctl -n '__gpuctl_at_pos completion' -a 'bash zsh fish'

# config
complete -c gpuctl -n '__gpuctl_at config' -a show -d 'every key with its value and where it came from'
complete -c gpuctl -n '__gpuctl_at config' -a path -d 'the config and state file paths in use'

# account
complete -c gpuctl -n '__gpuctl_at account' -a add -d 'register an account'
complete -c gpuctl -n '__gpuctl_at account' -a set -d 'change an account'
complete -c gpuctl -n '__gpuctl_at account' -a list -d 'list accounts'
complete -c gpuctl -n '__gpuctl_at account' -a show -d 'show one account'
complete -c gpuctl -n '__gpuctl_at account' -a check -d 'check credentials against the provider'
complete -c gpuctl -n '__gpuctl_at account' -a rm -d 'remove an account'
complete -c gpuctl -n '__gpuctl_at account add' -l weekly-hours -x -d 'GPU hours per week (0 = no weekly window)'
complete -c gpuctl -n '__gpuctl_at account add' -l daily-hours -x -d 'GPU hours per day (0 = no daily window)'
complete -c gpuctl -n '__gpuctl_at account add' -l session-max -x -d 'cap on one session, e.g. 12h'
complete -c gpuctl -n '__gpuctl_at account add' -l shutdown-margin -x -d 'stop this long before the cap or budget'
complete -c gpuctl -n '__gpuctl_at account add' -l concurrent -x -d 'GPU sessions at once'
complete -c gpuctl -n '__gpuctl_at account add' -l max-usd-per-day -x -d 'vast: USD per day (0 = no limit)'
complete -c gpuctl -n '__gpuctl_at account add' -l credentials -r -F -d 'credentials file'
complete -c gpuctl -n '__gpuctl_at account set' -l weekly-hours -x -d 'GPU hours per week (0 = no weekly window)'
complete -c gpuctl -n '__gpuctl_at account set' -l daily-hours -x -d 'GPU hours per day (0 = no daily window)'
complete -c gpuctl -n '__gpuctl_at account set' -l session-max -x -d 'cap on one session, e.g. 12h'
complete -c gpuctl -n '__gpuctl_at account set' -l shutdown-margin -x -d 'stop this long before the cap or budget'
complete -c gpuctl -n '__gpuctl_at account set' -l concurrent -x -d 'GPU sessions at once'
complete -c gpuctl -n '__gpuctl_at account set' -l max-usd-per-day -x -d 'vast: USD per day (0 = no limit)'
complete -c gpuctl -n '__gpuctl_at account set' -l credentials -r -F -d 'credentials file'
complete -c gpuctl -n '__gpuctl_at account add' -l provider -x -a 'kaggle colab vast ssh' -d 'kaggle | colab | vast | ssh'
complete -c gpuctl -n '__gpuctl_at account set' -l reset -x -a 'weekly_gpu_hours daily_gpu_hours session_max shutdown_margin concurrent max_usd_per_day credentials all' -d 'drop an override back to the provider default'
complete -c gpuctl -n '__gpuctl_at_pos account set' -a '(__gpuctl_names accounts)'
complete -c gpuctl -n '__gpuctl_at_pos account show' -a '(__gpuctl_names accounts)'
complete -c gpuctl -n '__gpuctl_at_pos account check' -a '(__gpuctl_names accounts)'
complete -c gpuctl -n '__gpuctl_at_pos account rm' -a '(__gpuctl_names accounts)'
complete -c gpuctl -n '__gpuctl_at account rm' -l force -d 'also remove its workers, and forget its vast.ai instances'

# worker
complete -c gpuctl -n '__gpuctl_at worker' -a add -d 'register a worker'
complete -c gpuctl -n '__gpuctl_at worker' -a list -d 'list workers'
complete -c gpuctl -n '__gpuctl_at worker' -a show -d 'show one worker'
complete -c gpuctl -n '__gpuctl_at worker' -a rm -d 'remove a worker'
complete -c gpuctl -n '__gpuctl_at worker' -a sync -d 'refresh vast.ai workers from the provider'
complete -c gpuctl -n '__gpuctl_at worker' -a start -d "start a vast worker's stopped instance"
complete -c gpuctl -n '__gpuctl_at worker' -a stop -d "stop a vast worker's instance"
complete -c gpuctl -n '__gpuctl_at worker' -a destroy -d "destroy a vast worker's instance and its disk"
complete -c gpuctl -n '__gpuctl_at worker' -a enable -d 'let a worker take sessions and jobs again'
complete -c gpuctl -n '__gpuctl_at worker' -a disable -d 'keep a worker out of plans and dispatch'
complete -c gpuctl -n '__gpuctl_at worker add' -l account -x -a '(__gpuctl_names accounts)' -d 'the account it runs under'
complete -c gpuctl -n '__gpuctl_at worker add' -l gpu -x -d 'GPU model, e.g. T4, P100, RTX_4090'
complete -c gpuctl -n '__gpuctl_at worker add' -l gpu-count -x -d 'GPUs on it (default 1)'
complete -c gpuctl -n '__gpuctl_at worker add' -l host -x -a '(__fish_complete_user_at_hosts)' -d 'ssh: user@host[:port]'
complete -c gpuctl -n '__gpuctl_at worker add' -l identity -r -F -d 'ssh: private key file for the host'
complete -c gpuctl -n '__gpuctl_at worker add' -l instance-id -x -d 'vast: an existing instance id'
complete -c gpuctl -n '__gpuctl_at worker add' -l price -x -d 'vast/ssh: USD per hour while running'
complete -c gpuctl -n '__gpuctl_at worker list' -l account -x -a '(__gpuctl_names accounts)' -d "only this account's workers"
complete -c gpuctl -n '__gpuctl_at worker list' -l provider -x -a 'kaggle colab vast ssh' -d "only this provider's workers"
complete -c gpuctl -n '__gpuctl_at worker rm' -l force -d 'forget its vast.ai instance (it keeps running and billing)'
complete -c gpuctl -n '__gpuctl_at worker sync' -l account -x -a '(__gpuctl_names accounts)' -d 'only this vast account'
complete -c gpuctl -n '__gpuctl_at worker sync' -l adopt -d 'register instances gpuctl did not create as workers'
complete -c gpuctl -n '__gpuctl_at worker destroy' -s y -l yes -d 'do not ask (required off a terminal)'
for c in show rm start stop destroy enable disable
    complete -c gpuctl -n "__gpuctl_at_pos worker $c" -a '(__gpuctl_names workers)'
end

# session
complete -c gpuctl -n '__gpuctl_at session' -a start -d 'record a session start'
complete -c gpuctl -n '__gpuctl_at session' -a stop -d 'record a session end'
complete -c gpuctl -n '__gpuctl_at session' -a add -d 'record a past session'
complete -c gpuctl -n '__gpuctl_at session' -a list -d 'sessions, newest first'
for c in start stop add
    complete -c gpuctl -n "__gpuctl_at_pos session $c" -a '(__gpuctl_names workers)'
end
complete -c gpuctl -n '__gpuctl_at session start' -l at -x -a now -d 'when it started (default now)'
complete -c gpuctl -n '__gpuctl_at session stop' -l at -x -a now -d 'when it ended (default now)'
complete -c gpuctl -n '__gpuctl_at session stop' -l reason -x -d "why it ended (default 'stopped')"
complete -c gpuctl -n '__gpuctl_at session add' -l start -x -a now -d 'when it started'
complete -c gpuctl -n '__gpuctl_at session add' -l end -x -a now -d 'when it ended'
complete -c gpuctl -n '__gpuctl_at session list' -l worker -x -a '(__gpuctl_names workers)' -d "only this worker's sessions"
complete -c gpuctl -n '__gpuctl_at session list' -l since -x -a now -d 'only sessions running at or after this time'

# status
complete -c gpuctl -n '__gpuctl_at status' -l watch -d 'a live full-screen view, redrawn every --interval; q quits'
complete -c gpuctl -n '__gpuctl_at status' -l interval -x -d '--watch: time between redraws (default 5s)'

# quota
complete -c gpuctl -n '__gpuctl_at_pos quota' -a '(__gpuctl_names accounts)'
complete -c gpuctl -n '__gpuctl_at quota' -l warnings -d 'only sessions near or past their deadline'
complete -c gpuctl -n '__gpuctl_at quota' -l sync -d "first read Kaggle's own used hours and reconcile the ledger"

# schedule
complete -c gpuctl -n '__gpuctl_at schedule' -l strategy -x -a '(__gpuctl_names strategies)' -d 'planning strategy'
complete -c gpuctl -n '__gpuctl_at schedule' -l once -d 'run one scheduler tick (for cron)'
complete -c gpuctl -n '__gpuctl_at schedule' -l watch -d 'run ticks until SIGINT/SIGTERM'
complete -c gpuctl -n '__gpuctl_at schedule' -l tick -x -d '--watch: time between ticks'
complete -c gpuctl -n '__gpuctl_at schedule' -l dry-run -d '--once/--watch: print what a tick would do'
complete -c gpuctl -n '__gpuctl_at schedule' -l notify -x -a '(__fish_complete_command)' -d '--once/--watch: run CMD with a reminder as $1'
complete -c gpuctl -n '__gpuctl_at schedule' -l from -x -a now -d 'start of the horizon (default now)'
complete -c gpuctl -n '__gpuctl_at schedule' -l days -x -d 'length of the horizon in days (default 7)'
complete -c gpuctl -n '__gpuctl_at schedule' -l keep -x -d 'economy: GPUs to keep online'
complete -c gpuctl -n '__gpuctl_at schedule' -l format -x -a 'table gantt json ics' -d 'output format (default table)'
complete -c gpuctl -n '__gpuctl_at schedule' -l providers -x -a '(__fish_append , kaggle colab vast ssh)' -d 'only these providers, comma-separated'
complete -c gpuctl -n '__gpuctl_at schedule' -l save -d 'store the plan as the active one'
complete -c gpuctl -n '__gpuctl_at schedule' -l autoscale -d '--once/--watch: also run the Dask autoscaler'

# autoscale
complete -c gpuctl -n '__gpuctl_at autoscale' -l dask -x -d 'the scheduler HTTP API, http://HOST:8787'
complete -c gpuctl -n '__gpuctl_at autoscale' -l scheduler -x -d 'what workers connect to, tcp://HOST:8786'
complete -c gpuctl -n '__gpuctl_at autoscale' -l min -x -d 'fewest GPU workers gpuctl keeps'
complete -c gpuctl -n '__gpuctl_at autoscale' -l max -x -d 'most GPU workers gpuctl runs for Dask'
complete -c gpuctl -n '__gpuctl_at autoscale' -l step-up -x -d 'most workers started in one tick'
complete -c gpuctl -n '__gpuctl_at autoscale' -l scale-down-after -x -d 'retire only after the demand stayed low this long'
complete -c gpuctl -n '__gpuctl_at autoscale' -l pool -x -a 'vast ssh both' -d 'where workers come from'
complete -c gpuctl -n '__gpuctl_at autoscale' -l account -x -a '(__gpuctl_names accounts)' -d 'vast account to rent on'
complete -c gpuctl -n '__gpuctl_at autoscale' -l once -d 'run one tick (the default; for cron)'
complete -c gpuctl -n '__gpuctl_at autoscale' -l watch -d 'run ticks until SIGINT/SIGTERM'
complete -c gpuctl -n '__gpuctl_at autoscale' -l tick -x -d '--watch: time between ticks'
complete -c gpuctl -n '__gpuctl_at autoscale' -l dry-run -d 'read Dask and decide; change nothing'

# offers
complete -c gpuctl -n '__gpuctl_at offers' -a search -d 'search vast.ai offers'
complete -c gpuctl -n '__gpuctl_at offers' -a rent -d 'rent an offer as a new worker'
complete -c gpuctl -n '__gpuctl_at offers search' -l gpu -x -d 'GPU model, e.g. RTX_4090'
complete -c gpuctl -n '__gpuctl_at offers search' -l num-gpus -x -d 'GPUs per offer'
complete -c gpuctl -n '__gpuctl_at offers search' -l max-price -x -d 'USD per hour, at most'
complete -c gpuctl -n '__gpuctl_at offers search' -l region -x -d 'two-letter country codes (US,CA)'
complete -c gpuctl -n '__gpuctl_at offers search' -l min-reliability -x -d '0 to 1'
complete -c gpuctl -n '__gpuctl_at offers search' -l order -x -a '(__fish_append , price reliability score gpu_ram inet_down num_gpus dlperf cuda -price -reliability -score -gpu_ram -inet_down -num_gpus -dlperf -cuda)' -d "sort keys; '-' in front = descending"
complete -c gpuctl -n '__gpuctl_at offers search' -l limit -x -d 'at most this many offers (default 20)'
complete -c gpuctl -n '__gpuctl_at offers search' -l disk -x -d 'disk GB to price in (default 16)'
complete -c gpuctl -n '__gpuctl_at offers search' -l account -x -a '(__gpuctl_names accounts)' -d 'the vast account whose key to use'
complete -c gpuctl -n '__gpuctl_at offers rent' -l name -x -d "the new worker's name"
complete -c gpuctl -n '__gpuctl_at offers rent' -l account -x -a '(__gpuctl_names accounts)' -d 'the vast account to rent with'
complete -c gpuctl -n '__gpuctl_at offers rent' -l image -x -d 'docker image, e.g. pytorch/pytorch:latest'
complete -c gpuctl -n '__gpuctl_at offers rent' -l disk -x -d 'disk GB (default 16)'
complete -c gpuctl -n '__gpuctl_at offers rent' -l onstart -r -F -d 'a script run when the instance starts'
complete -c gpuctl -n '__gpuctl_at offers rent' -l env -x -d 'KEY=VALUE for the container (repeatable)'
complete -c gpuctl -n '__gpuctl_at offers rent' -l max-price -x -d 'refuse if the offer costs more USD/h'
complete -c gpuctl -n '__gpuctl_at offers rent' -l wait -d 'wait until the instance runs'
complete -c gpuctl -n '__gpuctl_at offers rent' -l watchdog -d 'add the idle watchdog to the onstart'

# job
complete -c gpuctl -n '__gpuctl_at job' -a submit -d 'queue a job'
complete -c gpuctl -n '__gpuctl_at job' -a list -d 'list jobs, newest first'
complete -c gpuctl -n '__gpuctl_at job' -a show -d 'show one job'
complete -c gpuctl -n '__gpuctl_at job' -a cancel -d 'cancel a job'
complete -c gpuctl -n '__gpuctl_at job' -a logs -d "print a job's log"
complete -c gpuctl -n '__gpuctl_at job submit' -l script -r -F -d 'a script file to run'
complete -c gpuctl -n '__gpuctl_at job submit' -l notebook -r -F -d 'a Jupyter notebook (Kaggle)'
complete -c gpuctl -n '__gpuctl_at job submit' -l command -x -d 'a shell command line (ssh, vast)'
complete -c gpuctl -n '__gpuctl_at job submit' -l provider -x -a 'kaggle ssh vast' -d 'only on this provider'
complete -c gpuctl -n '__gpuctl_at job submit' -l worker -x -a '(__gpuctl_names workers)' -d 'only on this worker'
complete -c gpuctl -n '__gpuctl_at job submit' -l gpu -x -d 'only on workers with this GPU model'
complete -c gpuctl -n '__gpuctl_at job submit' -l name -x -d 'a name for it (default: the file or program)'
complete -c gpuctl -n '__gpuctl_at job submit' -l priority -x -d 'higher runs first (default 0)'
complete -c gpuctl -n '__gpuctl_at job submit' -l max-attempts -x -d 'dispatches before a job lost again and again fails'
complete -c gpuctl -n '__gpuctl_at job submit' -l timeout -x -d 'run limit, e.g. 4h'
complete -c gpuctl -n '__gpuctl_at job submit' -l input -x -a '(__fish_complete_directories)' -d 'a directory copied up before the run (ssh, vast)'
complete -c gpuctl -n '__gpuctl_at job submit' -l output -x -a '(__fish_complete_directories)' -d 'where its output and log land'
complete -c gpuctl -n '__gpuctl_at job submit' -l accelerator -x -d 'Kaggle machine shape, e.g. NvidiaTeslaT4'
complete -c gpuctl -n '__gpuctl_at job submit' -l dataset -x -d 'Kaggle: a dataset OWNER/SLUG to attach (repeatable)'
complete -c gpuctl -n '__gpuctl_at job submit' -l internet -d 'Kaggle: give the run internet access'
complete -c gpuctl -n '__gpuctl_at job list' -l state -x -a 'queued dispatched running succeeded failed cancelled lost' -d 'only jobs in this state'
complete -c gpuctl -n '__gpuctl_at job logs' -s f -l follow -d 'keep printing until the job ends'
for c in show cancel logs
    complete -c gpuctl -n "__gpuctl_at_pos job $c" -a '(__gpuctl_names jobs)'
end

# events
complete -c gpuctl -n '__gpuctl_at_pos events' -a prune -d 'delete old events'
complete -c gpuctl -n '__gpuctl_at events' -l since -x -a now -d 'only events at or after this time'
complete -c gpuctl -n '__gpuctl_at events' -l type -x -a 'job.submit job.dispatch job.running job.succeeded job.failed job.cancelled job.cancel-requested job.lost job.requeued job.dispatch-refused job.dispatch-unknown worker.online worker.offline deadline.warning deadline.stop deadline.past plan.start plan.reminder plan.save account.add account.set account.rm worker.add worker.rm worker.enable worker.disable session.start session.stop session.add quota-sync rent rent-failed start stop destroy vanished adopt idle_detected hibernated woke deleted schedule hibernate hibernate.config autoscale.start autoscale.joined autoscale.left autoscale.low autoscale.retire autoscale.retire-refused autoscale.retire-unknown autoscale.hibernate autoscale.release autoscale.boot-timeout autoscale.refused autoscale.hold' -d 'only events of this type'
complete -c gpuctl -n '__gpuctl_at events' -l job -x -a '(__gpuctl_names jobs)' -d 'only events about this job'
complete -c gpuctl -n '__gpuctl_at events' -l worker -x -a '(__gpuctl_names workers)' -d 'only events about this worker'
complete -c gpuctl -n '__gpuctl_at events prune' -l older-than -x -d 'delete events older than this duration'

# hibernate-sweep
complete -c gpuctl -n '__gpuctl_at hibernate-sweep' -l dry-run -d 'decide from the samples already recorded; call and write nothing'

# hibernate
complete -c gpuctl -n '__gpuctl_at hibernate' -a config -d 'idle rules of a worker'
complete -c gpuctl -n '__gpuctl_at hibernate' -a now -d 'stop a running vast.ai worker now'
complete -c gpuctl -n '__gpuctl_at hibernate' -a schedule -d 'wake and sleep times of a worker'
complete -c gpuctl -n '__gpuctl_at hibernate' -a watchdog -d 'the on-instance idle watchdog'
complete -c gpuctl -n '__gpuctl_at hibernate' -a stats -d 'instances per state, hours hibernated, dollars saved'
for c in config now schedule watchdog
    complete -c gpuctl -n "__gpuctl_at_pos hibernate $c" -a '(__gpuctl_names workers)'
end
complete -c gpuctl -n '__gpuctl_at hibernate config' -l enable -d 'hibernate it when idle'
complete -c gpuctl -n '__gpuctl_at hibernate config' -l disable -d 'never hibernate it'
complete -c gpuctl -n '__gpuctl_at hibernate config' -l idle-below -x -d 'GPU percent below which it is idle'
complete -c gpuctl -n '__gpuctl_at hibernate config' -l idle-for -x -d 'idle this long: hibernate'
complete -c gpuctl -n '__gpuctl_at hibernate config' -l grace -x -d 'no decision this long after a start or wake'
complete -c gpuctl -n '__gpuctl_at hibernate config' -l delete-after -x -a never -d 'hibernated this long: destroy, or never'
complete -c gpuctl -n '__gpuctl_at hibernate schedule' -l wake -x -d 'HH:MM: start it'
complete -c gpuctl -n '__gpuctl_at hibernate schedule' -l sleep -x -d 'HH:MM: hibernate it (unless a job runs)'
complete -c gpuctl -n '__gpuctl_at hibernate schedule' -l tz -x -a '(__gpuctl_names zones)' -d 'IANA zone of the times (default: the display zone)'
complete -c gpuctl -n '__gpuctl_at hibernate schedule' -l days -x -a 'daily weekdays weekends mon-fri sat,sun mon tue wed thu fri sat sun' -d 'days it runs (default daily)'
complete -c gpuctl -n '__gpuctl_at hibernate schedule' -l clear -d 'remove its schedule'
complete -c gpuctl -n '__gpuctl_at hibernate watchdog' -l script -d 'print the watchdog script itself, not the onstart lines'
complete -c gpuctl -n '__gpuctl_at hibernate stats' -l since -x -a now -d 'from this time (default: the first record)'

# wake
complete -c gpuctl -n '__gpuctl_at_pos wake' -a '(__gpuctl_names workers)'
complete -c gpuctl -n '__gpuctl_at wake' -l gpu -x -d 're-rent: this GPU model instead of the saved one'
complete -c gpuctl -n '__gpuctl_at wake' -l region -x -d 're-rent: this two-letter country code'
complete -c gpuctl -n '__gpuctl_at wake' -l max-price -x -d 're-rent: at most this USD per hour'
complete -c gpuctl -n '__gpuctl_at wake' -l wait -d 'wait until it runs'
complete -c gpuctl -n '__gpuctl_at wake' -l destroy-old -d 're-rent: destroy the old stopped instance (its disk is lost)'
complete -c gpuctl -n '__gpuctl_at wake' -l watchdog -d "re-rent: add the idle watchdog to the new instance's onstart"
