#compdef gpuctl
# zsh completion for gpuctl
# SPDX-License-Identifier: MIT
#
# Install: copy it as _gpuctl into a directory of $fpath, e.g.
#   ~/.local/share/zsh/site-functions/_gpuctl   (per user; add the directory to fpath before compinit)
#   /usr/share/zsh/vendor-completions/_gpuctl   (system, Debian)
# or, after compinit, source it: source <(gpuctl completion zsh)
#
# Account and worker names and job ids come from `gpuctl __complete accounts|workers|jobs`, the
# strategies and time zones from `gpuctl __complete strategies|zones` (one value per line, maybe
# a tab and a description after it), run with the --db/--config given earlier on the line; if
# that fails, no values are offered.
# One function per command (_gpuctl_cmd_worker_add, …) lists that command's options.

# The lines of `gpuctl __complete KIND` in $reply, honouring --db/--config seen on the line.
_gpuctl_values() {
  local kind=$1 i w
  local -a args all
  reply=()
  all=(${_gpuctl_line[@]})
  for (( i = 2; i <= $#all; i++ )); do
    w=$all[i]
    case $w in
    --db | --config) (( i < $#all )) && args+=($w ${all[i+1]/#\~/$HOME}) ;;
    --db=* | --config=*) args+=(${w%%=*} ${${w#*=}/#\~/$HOME}) ;;
    esac
  done
  local bin=${all[1]/#\~/$HOME}
  (( $+commands[$bin] )) || [[ $bin == */* && -x $bin ]] || return 1
  reply=(${(f)"$(_call_program $kind ${(q)bin} ${(q)args} __complete $kind 2>/dev/null </dev/null)"})
  (( $#reply ))
}
# Names (accounts, workers, strategies) from `gpuctl __complete KIND`.
_gpuctl_names() {
  local kind=$1 expl
  local -a reply names
  _gpuctl_values $kind || return 1
  names=(${reply%%$'\t'*})
  _wanted $kind expl ${kind%s} compadd -a - names
}
_gpuctl_accounts() { _gpuctl_names accounts }
_gpuctl_workers() { _gpuctl_names workers }
_gpuctl_strategies() { _gpuctl_names strategies }
# Job ids, described by their name and state.
_gpuctl_jobs() {
  local -a reply jobs
  _gpuctl_values jobs || return 1
  jobs=(${reply/$'\t'/:})
  _describe -t jobs 'job id' jobs
}
# Zone names one part at a time (Europe/ then Berlin), from `gpuctl __complete zones`.
_gpuctl_zones() {
  local -a reply zones
  _gpuctl_values zones || return 1
  zones=($reply)
  _multi_parts / zones
}

_gpuctl_providers_list() { _sequence compadd - kaggle colab vast ssh }
_gpuctl_order_keys() {
  _sequence compadd - price reliability score gpu_ram inet_down num_gpus dlperf cuda \
    -price -reliability -score -gpu_ram -inet_down -num_gpus -dlperf -cuda
}

# The global options; CLI11 takes them after the command too.
_gpuctl_globals=(
  '--db=[state file (default $XDG_STATE_HOME/gpuctl/state.db; env GPUCTL_DB)]:state file:_files'
  '--config=[config file (default $XDG_CONFIG_HOME/gpuctl/config.toml; env GPUCTL_CONFIG)]:config file:_files'
  '--json[print one JSON document on stdout]'
  '(-q --quiet)'{-q,--quiet}'[no confirmation messages]'
  '--no-color[no colour (also NO_COLOR)]'
  '--tz=[display time zone (IANA name)]:time zone:_gpuctl_zones'
  '(-v --verbose)'{-v,--verbose}'[log provider calls on stderr (secrets redacted)]'
  '(- *)'{-h,--help}'[print help and exit]'
)

_gpuctl_policy=(
  '--weekly-hours=[GPU hours per week (0 = no weekly window)]:hours'
  '--daily-hours=[GPU hours per day (0 = no daily window)]:hours'
  '--session-max=[cap on one session, e.g. 12h]:duration'
  '--shutdown-margin=[stop this long before the cap or budget, e.g. 30m]:duration'
  '--concurrent=[GPU sessions at once]:count'
  '--max-usd-per-day=[vast: USD per day (0 = no limit)]:USD'
)

_gpuctl_reset_fields=(weekly_gpu_hours daily_gpu_hours session_max shutdown_margin concurrent
  max_usd_per_day credentials all)
_gpuctl_job_states=(queued dispatched running succeeded failed cancelled lost)
_gpuctl_event_types=(job.submit job.dispatch job.running job.succeeded job.failed job.cancelled
  job.cancel-requested job.lost job.requeued job.dispatch-refused job.dispatch-unknown
  worker.online worker.offline deadline.warning deadline.stop deadline.past plan.start
  plan.reminder plan.save account.add account.set account.rm worker.add worker.rm worker.enable
  worker.disable session.start session.stop session.add quota-sync rent rent-failed start stop
  destroy vanished adopt idle_detected hibernated woke deleted schedule hibernate hibernate.config
  autoscale.start autoscale.joined autoscale.left autoscale.low autoscale.retire
  autoscale.retire-refused autoscale.retire-unknown autoscale.hibernate autoscale.release
  autoscale.boot-timeout autoscale.refused autoscale.hold)

_gpuctl_cmd_version() { _arguments -s $_gpuctl_globals }
_gpuctl_cmd_init() { _arguments -s $_gpuctl_globals }
_gpuctl_cmd_status() {
  _arguments -s $_gpuctl_globals \
    '--watch[a live full-screen view, redrawn every --interval; q quits]' \
    '--interval=[--watch: time between redraws (default 5s)]:duration'
}
_gpuctl_cmd_config_show() { _arguments -s $_gpuctl_globals }
_gpuctl_cmd_config_path() { _arguments -s $_gpuctl_globals }

_gpuctl_cmd_completion() {
  _arguments -s $_gpuctl_globals ':shell:(bash zsh fish)'
}

_gpuctl_cmd_account_add() {
  _arguments -s $_gpuctl_globals $_gpuctl_policy \
    '--provider=[kaggle | colab | vast | ssh]:provider:(kaggle colab vast ssh)' \
    '--credentials=[kaggle: API token file or kaggle.json; vast: API key file]:credentials file:_files' \
    ':account name:'
}
_gpuctl_cmd_account_set() {
  _arguments -s $_gpuctl_globals $_gpuctl_policy \
    '--credentials=[credentials file]:credentials file:_files' \
    "*--reset=[drop an override back to the provider default]:field:($_gpuctl_reset_fields)" \
    ':account:_gpuctl_accounts'
}
_gpuctl_cmd_account_list() { _arguments -s $_gpuctl_globals }
_gpuctl_cmd_account_show() { _arguments -s $_gpuctl_globals ':account:_gpuctl_accounts' }
_gpuctl_cmd_account_check() { _arguments -s $_gpuctl_globals '::account:_gpuctl_accounts' }
_gpuctl_cmd_account_rm() {
  _arguments -s $_gpuctl_globals \
    '--force[also remove its workers, and forget its vast.ai instances]' \
    ':account:_gpuctl_accounts'
}

_gpuctl_cmd_worker_add() {
  _arguments -s $_gpuctl_globals \
    '--account=[the account it runs under]:account:_gpuctl_accounts' \
    '--gpu=[GPU model, e.g. T4, P100, RTX_4090]:GPU model' \
    '--gpu-count=[GPUs on it (default 1)]:count' \
    '--host=[ssh: user@host\[:port\]]:host:_user_at_host' \
    '--identity=[ssh: private key file for the host]:key file:_files' \
    '--instance-id=[vast: an existing instance id]:instance id' \
    '--price=[vast/ssh: USD per hour while running]:USD per hour' \
    ':worker name:'
}
_gpuctl_cmd_worker_list() {
  _arguments -s $_gpuctl_globals \
    "--account=[only this account's workers]:account:_gpuctl_accounts" \
    "--provider=[only this provider's workers]:provider:(kaggle colab vast ssh)"
}
_gpuctl_cmd_worker_show() { _arguments -s $_gpuctl_globals ':worker:_gpuctl_workers' }
_gpuctl_cmd_worker_rm() {
  _arguments -s $_gpuctl_globals \
    '--force[forget its vast.ai instance (it keeps running and billing)]' \
    ':worker:_gpuctl_workers'
}
_gpuctl_cmd_worker_sync() {
  _arguments -s $_gpuctl_globals \
    '--account=[only this vast account]:account:_gpuctl_accounts' \
    '--adopt[register instances gpuctl did not create as workers]'
}
_gpuctl_cmd_worker_start() { _arguments -s $_gpuctl_globals ':worker:_gpuctl_workers' }
_gpuctl_cmd_worker_stop() { _arguments -s $_gpuctl_globals ':worker:_gpuctl_workers' }
_gpuctl_cmd_worker_destroy() {
  _arguments -s $_gpuctl_globals \
    '(-y --yes)'{-y,--yes}'[do not ask (required off a terminal)]' \
    ':worker:_gpuctl_workers'
}
_gpuctl_cmd_worker_enable() { _arguments -s $_gpuctl_globals ':worker:_gpuctl_workers' }
_gpuctl_cmd_worker_disable() { _arguments -s $_gpuctl_globals ':worker:_gpuctl_workers' }

_gpuctl_cmd_session_start() {
  _arguments -s $_gpuctl_globals \
    '--at=[when it started (default now)]:time:(now)' \
    ':worker:_gpuctl_workers'
}
_gpuctl_cmd_session_stop() {
  _arguments -s $_gpuctl_globals \
    '--at=[when it ended (default now)]:time:(now)' \
    "--reason=[why it ended (default 'stopped')]:reason" \
    ':worker:_gpuctl_workers'
}
_gpuctl_cmd_session_add() {
  _arguments -s $_gpuctl_globals \
    '--start=[when it started]:time:(now)' \
    '--end=[when it ended]:time:(now)' \
    ':worker:_gpuctl_workers'
}
_gpuctl_cmd_session_list() {
  _arguments -s $_gpuctl_globals \
    "--worker=[only this worker's sessions]:worker:_gpuctl_workers" \
    '--since=[only sessions running at or after this time]:time:(now)'
}

_gpuctl_cmd_quota() {
  _arguments -s $_gpuctl_globals \
    '--warnings[only sessions near or past their deadline]' \
    "--sync[first read Kaggle's own used hours and reconcile the ledger]" \
    '::account:_gpuctl_accounts'
}

_gpuctl_cmd_schedule() {
  _arguments -s $_gpuctl_globals \
    '--strategy=[planning strategy]:strategy:_gpuctl_strategies' \
    '--once[run one scheduler tick (for cron)]' \
    '--watch[run ticks until SIGINT/SIGTERM]' \
    '--tick=[--watch: time between ticks (default scheduler.tick)]:duration' \
    '--dry-run[--once/--watch: print what a tick would do, write nothing]' \
    '--notify=[--once/--watch: run CMD with a reminder as $1]:command:_command_names -e' \
    '--from=[start of the horizon (default now)]:time:(now)' \
    '--days=[length of the horizon in days (default 7)]:days' \
    '--keep=[economy: GPUs to keep online]:count' \
    '--format=[output format (default table)]:format:(table gantt json ics)' \
    '--providers=[only these providers, comma-separated]:providers:_gpuctl_providers_list' \
    '--save[store the plan as the active one (the scheduler follows it)]' \
    '--autoscale[--once/--watch: also run the Dask autoscaler in each tick]'
}

_gpuctl_cmd_autoscale() {
  _arguments -s $_gpuctl_globals \
    '--dask=[the scheduler HTTP API, http://HOST:8787]:URL' \
    '--scheduler=[what workers connect to, tcp://HOST:8786]:address' \
    '--min=[fewest GPU workers gpuctl keeps in the cluster]:count' \
    '--max=[most GPU workers gpuctl runs for Dask]:count' \
    '--step-up=[most workers started in one tick]:count' \
    '--scale-down-after=[retire only after the demand stayed low this long]:duration' \
    '--pool=[where workers come from]:pool:(vast ssh both)' \
    '--account=[vast account to rent on]:account:_gpuctl_accounts' \
    '--once[run one tick (the default; for cron)]' \
    '--watch[run ticks until SIGINT/SIGTERM]' \
    '--tick=[--watch: time between ticks (default scheduler.tick)]:duration' \
    '--dry-run[read Dask and decide; start, retire and write nothing]'
}

_gpuctl_cmd_offers_search() {
  _arguments -s $_gpuctl_globals \
    '--gpu=[GPU model, e.g. RTX_4090 (underscores = spaces)]:GPU model' \
    '--num-gpus=[GPUs per offer]:count' \
    '--max-price=[USD per hour, at most]:USD per hour' \
    '--region=[two-letter country codes (US,CA)]:country codes' \
    '--min-reliability=[0 to 1]:reliability' \
    "--order=[sort keys; '-' in front = descending (default price)]:sort keys:_gpuctl_order_keys" \
    '--limit=[at most this many offers (default 20)]:count' \
    '--disk=[disk GB to price in (default 16)]:GB' \
    '--account=[the vast account whose key to use]:account:_gpuctl_accounts'
}
_gpuctl_cmd_offers_rent() {
  _arguments -s $_gpuctl_globals \
    "--name=[the new worker's name]:worker name" \
    '--account=[the vast account to rent with]:account:_gpuctl_accounts' \
    '--image=[docker image, e.g. pytorch/pytorch:latest]:image' \
    '--disk=[disk GB (default 16)]:GB' \
    '--onstart=[a script run when the instance starts]:script:_files' \
    '*--env=[KEY=VALUE for the container (repeatable)]:KEY=VALUE' \
    '--max-price=[refuse if the offer costs more USD/h]:USD per hour' \
    '--wait[wait until the instance runs]' \
    '--watchdog[add the idle watchdog to the onstart]' \
    ":offer id (from 'offers search'):"
}

_gpuctl_cmd_job_submit() {
  _arguments -s $_gpuctl_globals \
    '--script=[a script file to run]:script:_files' \
    '--notebook=[a Jupyter notebook (Kaggle)]:notebook:_files -g "*.ipynb(-.)"' \
    '--command=[a shell command line (ssh, vast)]:command line' \
    '--provider=[only on this provider]:provider:(kaggle ssh vast)' \
    '--worker=[only on this worker]:worker:_gpuctl_workers' \
    '--gpu=[only on workers with this GPU model]:GPU model' \
    '--name=[a name for it (default: the file or program)]:name' \
    '--priority=[higher runs first (default 0)]:priority' \
    '--max-attempts=[dispatches before a job lost again and again fails (default 3)]:count' \
    "--timeout=[run limit, e.g. 4h (default: the session's deadline)]:duration" \
    '--input=[a directory copied up before the run (ssh, vast)]:directory:_files -/' \
    '--output=[where its output and log land]:directory:_files -/' \
    '--accelerator=[Kaggle machine shape, e.g. NvidiaTeslaT4]:accelerator' \
    '*--dataset=[Kaggle: a dataset OWNER/SLUG to attach (repeatable)]:OWNER/SLUG' \
    '--internet[Kaggle: give the run internet access]' \
    '*:: :_normal'
}
_gpuctl_cmd_job_list() {
  _arguments -s $_gpuctl_globals "--state=[only jobs in this state]:state:($_gpuctl_job_states)"
}
_gpuctl_cmd_job_show() { _arguments -s $_gpuctl_globals ':job id:_gpuctl_jobs' }
_gpuctl_cmd_job_cancel() { _arguments -s $_gpuctl_globals ':job id:_gpuctl_jobs' }
_gpuctl_cmd_job_logs() {
  _arguments -s $_gpuctl_globals \
    '(-f --follow)'{-f,--follow}'[keep printing until the job ends]' \
    ':job id:_gpuctl_jobs'
}

_gpuctl_cmd_events() {
  _arguments -s $_gpuctl_globals \
    '--since=[only events at or after this time]:time:(now)' \
    "--type=[only events of this type, e.g. job.dispatch]:event type:($_gpuctl_event_types)" \
    '--job=[only events about this job]:job id:_gpuctl_jobs' \
    '--worker=[only events about this worker]:worker:_gpuctl_workers'
}
_gpuctl_cmd_events_prune() {
  _arguments -s $_gpuctl_globals \
    '--older-than=[delete events older than this duration]:duration'
}

_gpuctl_cmd_hibernate-sweep() {
  _arguments -s $_gpuctl_globals \
    '--dry-run[decide from the samples already recorded; call and write nothing]'
}
_gpuctl_cmd_hibernate_config() {
  _arguments -s $_gpuctl_globals \
    '(--disable)--enable[hibernate it when idle]' \
    '(--enable)--disable[never hibernate it]' \
    '--idle-below=[GPU percent below which it is idle]:percent' \
    '--idle-for=[idle this long: hibernate]:duration' \
    '--grace=[no decision this long after a start or wake]:duration' \
    '--delete-after=[hibernated this long: destroy, or never]:duration:(never)' \
    ':vast.ai worker:_gpuctl_workers'
}
_gpuctl_cmd_hibernate_now() { _arguments -s $_gpuctl_globals ':vast.ai worker:_gpuctl_workers' }
_gpuctl_cmd_hibernate_schedule() {
  # --tz here is the zone of the times (also a global option, the display zone).
  _arguments -s $_gpuctl_globals \
    '--wake=[HH:MM: start it]:HH\:MM' \
    '--sleep=[HH:MM: hibernate it (unless a job runs)]:HH\:MM' \
    '--days=[days it runs (default daily)]:days:(daily weekdays weekends mon-fri sat,sun mon tue wed thu fri sat sun)' \
    '--clear[remove its schedule]' \
    ':vast.ai worker:_gpuctl_workers'
}
_gpuctl_cmd_hibernate_watchdog() {
  _arguments -s $_gpuctl_globals \
    '--script[print the watchdog script itself, not the onstart lines]' \
    ':vast.ai worker:_gpuctl_workers'
}
_gpuctl_cmd_hibernate_stats() {
  _arguments -s $_gpuctl_globals \
    '--since=[from this time (default: the first record)]:time:(now)'
}
_gpuctl_cmd_wake() {
  _arguments -s $_gpuctl_globals \
    '--gpu=[re-rent: this GPU model instead of the saved one]:GPU model' \
    '--region=[re-rent: this two-letter country code]:country code' \
    '--max-price=[re-rent: at most this USD per hour]:USD per hour' \
    '--wait[wait until it runs (up to \[providers.vast\] start_timeout)]' \
    '--destroy-old[re-rent: destroy the old stopped instance (its disk is lost)]' \
    "--watchdog[re-rent: add the idle watchdog to the new instance's onstart]" \
    ':vast.ai worker:_gpuctl_workers'
}

# The commands and, for each group, its subcommands (name:description).
_gpuctl_commands=(
  'version:print the version'
  'init:create the state file (harmless when it exists)'
  'config:show the effective configuration and its paths'
  'account:register provider accounts and their quotas'
  'worker:register the GPU machines and notebooks you use'
  'session:record GPU sessions (the quota ledger)'
  'quota:quota bands and remaining hours per account'
  'schedule:plan sessions within the quotas, or run the scheduler'
  'status:pool summary: workers, quota bands, usable hours (--watch: live)'
  'offers:search and rent vast.ai GPU offers'
  'job:queue GPU jobs; the scheduler runs them'
  'events:what gpuctl did automatically, and why'
  'hibernate-sweep:hibernate idle vast.ai workers (for cron)'
  'hibernate:idle rules, schedules and savings of vast.ai workers'
  'wake:start a hibernated vast.ai worker again'
  'autoscale:size a Dask cluster from its demand (wake, borrow, rent, retire, hibernate)'
  'completion:print the shell completion script for bash, zsh or fish'
)
_gpuctl_sub_config=('show:every key with its value and where it came from'
  'path:the config and state file paths in use')
_gpuctl_sub_account=('add:register an account' 'set:change an account' 'list:list accounts'
  'show:show one account' 'check:check credentials against the provider' 'rm:remove an account')
_gpuctl_sub_worker=('add:register a worker' 'list:list workers' 'show:show one worker'
  'rm:remove a worker' "sync:refresh vast.ai workers from the provider"
  "start:start a vast worker's stopped instance" "stop:stop a vast worker's instance"
  "destroy:destroy a vast worker's instance and its disk"
  'enable:let a worker take sessions and jobs again' 'disable:keep a worker out of plans and dispatch')
_gpuctl_sub_session=('start:record a session start' 'stop:record a session end'
  'add:record a past session' 'list:sessions, newest first')
_gpuctl_sub_offers=('search:search vast.ai offers' 'rent:rent an offer as a new worker')
_gpuctl_sub_job=('submit:queue a job' 'list:list jobs, newest first' 'show:show one job'
  'cancel:cancel a job' "logs:print a job's log")
_gpuctl_sub_hibernate=('config:idle rules of a worker' 'now:stop a running vast.ai worker now'
  'schedule:wake and sleep times of a worker' 'watchdog:the on-instance idle watchdog'
  'stats:instances per state, hours hibernated, dollars saved')
_gpuctl_sub_events=('prune:delete old events')

_gpuctl() {
  local curcontext=$curcontext state state_descr line ret=1
  local -a _gpuctl_line
  _gpuctl_line=(${words[1,CURRENT-1]})
  typeset -A opt_args

  _arguments -C -s $_gpuctl_globals '(- *)--version[print the version]' \
    ': :->command' '*:: :->args' && ret=0
  case $state in
  command)
    _describe -t commands 'gpuctl command' _gpuctl_commands && ret=0
    ;;
  args)
    local cmd=$words[1]
    curcontext=${curcontext%:*:*}:gpuctl-$cmd:
    case $cmd in
    events)
      # events takes options itself, and one subcommand.
      if [[ $words[2] == prune ]] && (( CURRENT > 2 )); then
        shift words
        (( CURRENT-- ))
        curcontext=${curcontext%:*:*}:gpuctl-events-prune:
        _gpuctl_cmd_events_prune && ret=0
      elif (( CURRENT == 2 )) && [[ $words[CURRENT] != -* ]]; then
        _describe -t subcommands 'gpuctl events subcommand' _gpuctl_sub_events && ret=0
      else
        _gpuctl_cmd_events && ret=0
      fi
      ;;
    config | account | worker | session | offers | job | hibernate)
      if (( CURRENT == 2 )); then
        _describe -t subcommands "gpuctl $cmd subcommand" _gpuctl_sub_$cmd && ret=0
      else
        local sub=$words[2]
        shift words
        (( CURRENT-- ))
        curcontext=${curcontext%:*:*}:gpuctl-$cmd-$sub:
        (( $+functions[_gpuctl_cmd_${cmd}_${sub}] )) && _gpuctl_cmd_${cmd}_${sub} && ret=0
      fi
      ;;
    *) (( $+functions[_gpuctl_cmd_$cmd] )) && _gpuctl_cmd_$cmd && ret=0 ;;
    esac
    ;;
  esac
  return ret
}

# Autoloaded from $fpath: complete now. Sourced: register the function.
if [[ $funcstack[1] == _gpuctl ]]; then
  _gpuctl "$@"
else
  compdef _gpuctl gpuctl
fi
