#!/bin/sh
# shellcheck disable=SC2089,SC2090 # the double quotes belong to the value: a JSON list for Dask
# Starts a Dask scheduler that gpuctl can autoscale: the HTTP API module on (it is off by default;
# the value replaces Dask's default route list, so the defaults are repeated), the HTTP port on
# loopback only (the API has no authentication: whoever reaches it can retire workers), the TCP
# port on every interface so rented workers can connect. Needs `dask` (Debian: python3-distributed).
#   ./scheduler.sh [TCP_PORT [HTTP_PORT]]
set -eu
port=${1:-8786}
http=${2:-8787}
DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES='["distributed.http.scheduler.api","distributed.http.scheduler.prometheus","distributed.http.scheduler.info","distributed.http.scheduler.json","distributed.http.health","distributed.http.proxy","distributed.http.statics"]'
export DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES
exec dask scheduler --host 0.0.0.0 --port "$port" --dashboard-address "127.0.0.1:$http"
