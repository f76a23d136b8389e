#!/usr/bin/env bash
# Runs the test suite while every core is busy, as on a shared CI machine (issue 23).
#
#   .ci/under_load.sh                        # the whole suite, one CPU hog per core
#   .ci/under_load.sh tests/api -x           # arguments go to pytest
#   .ci/under_load.sh -p randomly            # ... in random order too
#   HOGS=4 .ci/under_load.sh                 # another number of hogs
#
# The hogs are stopped however the run ends (pass, fail, Ctrl-C, SIGTERM to this script); the exit
# status is pytest's. A test that fails here and passes on a quiet machine is measuring the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
HOGS=${HOGS:-$(nproc)}
hogs=()
pytest_pid=

stop_hogs() {
    local pid
    for pid in "${hogs[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${hogs[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    hogs=()
}

# Ctrl-C or SIGTERM reaches this script: pass it on to pytest's process group (pytest and the servers
# its tests started), so pytest tears its fixtures down, then stop the hogs on the way out.
forward() {
    if [[ -n $pytest_pid ]]; then
        kill -"$1" -- "-$pytest_pid" 2>/dev/null || true
        # A test may have installed its own handler (a server running inside pytest) and go on: 30 s
        # to stop, then the whole group is killed.
        (sleep 30; kill -KILL -- "-$pytest_pid" 2>/dev/null || true) &
    fi
}
traps() {
    trap stop_hogs EXIT
    trap 'forward INT' INT
    trap 'forward TERM' TERM
}
traps

for _ in $(seq "$HOGS"); do
    "$PYTHON" -c 'while 1: pass' &
    hogs+=("$!")
done
echo "under_load: $HOGS CPU hogs running (pids ${hogs[*]})" >&2

# Job control: pytest gets a process group of its own, and (unlike a plain background job) keeps
# its SIGINT handler, so a forwarded Ctrl-C is a KeyboardInterrupt that runs the teardowns.
set -m
"$PYTHON" -m pytest "$@" &
pytest_pid=$!
set +m
traps  # leaving job control resets the signal handlers, these traps' among them
status=0
while :; do
    wait "$pytest_pid" && status=0 || status=$?
    kill -0 "$pytest_pid" 2>/dev/null || break  # still running: wait was cut short by a signal
done
exit "$status"
