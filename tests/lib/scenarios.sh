# Shared by the scenario harnesses (tests/vrrp, tests/scaleout): the loop that runs the
# selected scenarios and counts them. The caller defines run_one NAME (exit status 0: pass,
# 2: skipped, else failed), now and fcalc, and sets interrupted=1 on Ctrl-C.

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

