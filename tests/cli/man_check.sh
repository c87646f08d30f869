#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Renders each man page given with every groff warning on (`groff -ww`) and, where man-db is
# installed, as man(1) shows it at 80 columns (`MANWIDTH=80 man --warnings -l`, which also runs
# preconv); fails on any warning or an empty page. Usage: man_check.sh PAGE...
set -euo pipefail
command -v groff >/dev/null || { echo "man_check: groff is not installed (groff-base)" >&2; exit 1; }
(($# > 0)) || { echo "usage: man_check.sh PAGE..." >&2; exit 2; }
for page in "$@"; do
    [[ -s $page ]] || { echo "man_check: $page is missing or empty" >&2; exit 1; }
    out=$(groff -ww -man -Tutf8 "$page" 2>"${TMPDIR:-/tmp}/man_check.$$") ||
        { cat "${TMPDIR:-/tmp}/man_check.$$" >&2; rm -f "${TMPDIR:-/tmp}/man_check.$$"; exit 1; }
    err=$(cat "${TMPDIR:-/tmp}/man_check.$$")
    rm -f "${TMPDIR:-/tmp}/man_check.$$"
    [[ -z $err ]] || { echo "man_check: groff -ww $page:" >&2; echo "$err" >&2; exit 1; }
    (($(wc -l <<<"$out") > 20)) || { echo "man_check: $page renders to almost nothing" >&2; exit 1; }
    if command -v man >/dev/null; then
        err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) ||
            { echo "man_check: man -l $page failed: $err" >&2; exit 1; }
        [[ -z $err ]] || { echo "man_check: MANWIDTH=80 man --warnings -l $page:" >&2; echo "$err" >&2; exit 1; }
    fi
    echo "man_check: ok: $page"
done
