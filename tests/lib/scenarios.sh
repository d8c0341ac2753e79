# Shared by the scenario harnesses (tests/vrrp, tests/scaleout): running one scenario in a
# lab of its own, and the loop that runs the selected ones and counts them. The caller
# defines:
#   scenario_NAME         each scenario (it writes $SDIR/reason to fail, $SDIR/skipped and
#                         exits $SKIP_STATUS to skip, and traces to $SDIR/trace);
#   lab_teardown          removes the scenario's namespaces and daemons;
#   lab_namespaces        prints the namespaces to keep after a failure (--keep);
#   lab_failure_logs DIR  prints the last lines of the logs worth reading after a failure;
#   lab_before_teardown   (optional) runs first when the scenario ends, pass or fail;
#   now and fcalc, WORK, SKIP_STATUS, keep, verbose, NAME_WIDTH;
# and sets interrupted=1 on Ctrl-C; run_one sets kept=1 when it kept a failed lab.

# run_one NAME: run scenario NAME in a subshell with its own lab; prints the verdict and
# returns 0 (PASS), 1 (FAIL) or 2 (SKIP). Call it with errexit off (the subshell turns it on
# for itself).
run_one() {
    local name=$1 sdir="$WORK/$1" rc t0 dt
    mkdir -p "$sdir"
    : >"$sdir/trace"
    t0=$(now)
    (
        SDIR=$sdir
        # shellcheck disable=SC2317  # called by the EXIT trap
        scenario_exit() {
            local rc=$?
            set +e
            if declare -F lab_before_teardown >/dev/null; then lab_before_teardown; fi
            if [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP_STATUS" ] && [ "$keep" -eq 1 ]; then
                lab_namespaces >"$SDIR/kept"
            else
                lab_teardown
            fi
            exit "$rc"
        }
        # shellcheck disable=SC2317  # called by the ERR trap
        on_error() {
            [ -s "$SDIR/reason" ] || echo "unexpected error at line $1: $2" >"$SDIR/reason"
        }
        trap scenario_exit EXIT
        trap 'exit 130' INT TERM
        set -eE
        trap 'on_error $LINENO "$BASH_COMMAND"' ERR
        "scenario_$name"
        # A failure inside $(...) ends only that command substitution; should an
        # assignment ever hide it, the recorded reason still fails the scenario.
        [ ! -s "$SDIR/reason" ] || exit 1
    ) >"$sdir/output" 2>&1
    rc=$?
    dt=$(fcalc "$(now) - $t0")
    if [ "$rc" -eq "$SKIP_STATUS" ] && [ -s "$sdir/skipped" ]; then
        printf 'SKIP %-*s (not run): %s\n' "$NAME_WIDTH" "$name" "$(cat "$sdir/skipped")"
        return 2
    fi
    if [ "$rc" -eq 0 ]; then
        printf 'PASS %-*s (%5.1fs)\n' "$NAME_WIDTH" "$name" "$dt"
        # The measured figures always, the whole trace with --verbose.
        if [ "$verbose" -eq 0 ]; then sed -n 's/^[^ ]* FIGURE /    /p' "$sdir/trace"; else sed 's/^/    /' "$sdir/trace"; fi
        return 0
    fi
    printf 'FAIL %-*s (%5.1fs): %s\n' "$NAME_WIDTH" "$name" "$dt" "$(cat "$sdir/reason" 2>/dev/null || echo "exit status $rc")"
    {
        echo "trace:"; cat "$sdir/trace"
        [ ! -s "$sdir/output" ] || { echo "output:"; tail -n 10 "$sdir/output"; }
        lab_failure_logs "$sdir"
    } | sed 's/^/    /'
    if [ -f "$sdir/kept" ]; then
        kept=1
        echo "    kept: namespaces $(cat "$sdir/kept"); files in $sdir"
        echo "    remove with: for ns in $(cat "$sdir/kept"); do ip netns pids \$ns | xargs -r kill; ip netns del \$ns; done; rm -rf $WORK"
    fi
    return 1
}

# run_scenarios NAME...: run_one for each, stopping on Ctrl-C; prints "total Ns" and
# "N passed, M failed, K skipped"; fails when one failed.
run_scenarios() {
    local s rc pass=0 failed=0 skipped=0 start
    start=$(now)
    for s in "$@"; do
        # Not "if run_one": errexit would be ignored inside the scenario subshell.
        set +e
        run_one "$s"
        rc=$?
        set -e
        case $rc in
            0) pass=$((pass + 1)) ;;
            2) skipped=$((skipped + 1)) ;;
            *) failed=$((failed + 1)) ;;
        esac
        if [ "$interrupted" -eq 1 ]; then echo "interrupted"; exit 130; fi
    done
    echo "total $(fcalc "$(now) - $start")s"
    echo "$pass passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}

