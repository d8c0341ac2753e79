#!/usr/bin/env bash
# The whole test suite, in parts:
#   lints        cargo fmt --check, cargo clippy -D warnings
#   cargo        cargo build, then every unit and integration test (cargo test)
#   conformance  vigild -t against keepalived -t on tests/conformance/configs (root, keepalived)
#   vrrp         the VRRP failover scenarios in network namespaces, vigild against keepalived
#                both ways and against itself (root; the keepalived pairings need keepalived)
#   scaleout     route health injection behind an ECMP router in network namespaces: vigild's
#                announcements carried by BIRD and FRR to a BIRD router, BFD, drain (root,
#                bird2, frr)
#   kernel-lab   IPVS, the reconciler and the health checkers in Debian's kernel under qemu,
#                checked with the real ipvsadm (root, qemu-system-x86, busybox-static, ipvsadm,
#                cpio; its UDP_CHECK comparison also needs keepalived and tcpdump)
#   signals      keepalived's signals (JSON, STATS_CLEAR, every real-time one) sent to a running
#                vigild, its keepalived.json beside keepalived's (root, keepalived)
#   systemd      the Debian package under a real systemd: two systemd-nspawn containers (root,
#                debootstrap, systemd-container, dpkg-dev, lintian)
# A part that cannot run here is skipped with what it needs, its tests counted as skipped; in CI
# (CI=true) that is a failure instead.
#
# usage (as root for every part): scripts/test.sh [PART...]    (default: all, in this order)
#
# Output: each part's failures and skips as they happen (the VRRP and kernel-lab verdicts
# all), its total, then a total per part and the grand total with PASS, FAIL and SKIP counted
# apart, ending with the line "N passed, N failed, N skipped". The parts' full output (with the
# noise of servers killed on purpose and qemu's console) goes to a log directory, named at the
# start. Exit status: 0 when nothing failed, 1 otherwise, 2 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

ALL_PARTS=(lints cargo conformance vrrp scaleout kernel-lab signals systemd)
parts=("$@")
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
for p in "${parts[@]}"; do
  [[ " ${ALL_PARTS[*]} " == *" $p "* ]] || { echo "test.sh: unknown part '$p' (parts: ${ALL_PARTS[*]})" >&2; exit 2; }
done

logs=$(mktemp -d "${TMPDIR:-/tmp}/vigil-test.XXXXXX")
echo "test.sh: parts: ${parts[*]}; full output in $logs/"
root=0
[[ $(id -u) -eq 0 ]] && root=1
if ((!root)); then
  echo "test.sh: not running as root (you are $(id -un)): conformance, vrrp, scaleout and kernel-lab need network namespaces and are skipped; run as root for them"
fi

declare -A PASS FAIL SKIP
for p in "${ALL_PARTS[@]}"; do PASS[$p]=0 FAIL[$p]=0 SKIP[$p]=0; done
# count PART PASSED FAILED SKIPPED: adds to PART's totals.
count() { PASS[$1]=$((PASS[$1] + $2)) FAIL[$1]=$((FAIL[$1] + $3)) SKIP[$1]=$((SKIP[$1] + $4)); }
say() { printf '\n== %s\n' "$*"; }
# skip_part PART N REASON: PART cannot run here; its N tests count as skipped (in CI: failed).
skip_part() {
  if [[ ${CI:-} == true ]]; then
    echo "FAIL $1: must run in CI, but $3"
    count "$1" 0 1 0
  else
    echo "SKIP $1 ($2 tests): $3"
    count "$1" 0 0 "$2"
  fi
}
# totals_of LOG: "P F S" from the last "N passed, M failed[, K skipped]" line of LOG.
totals_of() {
  sed -nE 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/p' "$1" | tail -n 1 |
    awk '{ print $1, $2, ($3 == "" ? 0 : $3) }'
}
# verdicts: passes PASS/FAIL/SKIP lines through, and the indented details under a FAIL.
verdicts() { awk '/^(PASS|FAIL|SKIP) / { fail = /^FAIL/; print; fflush(); next } fail && /^    / { print; fflush() }'; }
have() { command -v "$1" >/dev/null; }

part_lints() {
  say "lints: cargo fmt --check, cargo clippy"
  lint fmt cargo fmt --all -- --check
  lint clippy cargo clippy --workspace --all-targets --locked -- -D warnings
}
# lint NAME COMMAND...: one lint, passed when COMMAND succeeds.
lint() {
  local name=$1 log=$logs/$1.log
  shift
  if "$@" >"$log" 2>&1; then
    echo "PASS cargo $name"; count lints 1 0 0
  else
    echo "FAIL cargo $name (all of it in $log):"; head -n 20 "$log" | sed 's/^/    /'; count lints 0 1 0
  fi
}

part_cargo() {
  say "cargo tests: cargo build, then cargo test (a few minutes the first time; output in $logs/cargo-*.log)"
  if ! cargo build --workspace --locked >"$logs/cargo-build.log" 2>&1; then
    echo "FAIL cargo build:"; grep -E -A5 '^error' "$logs/cargo-build.log" | head -n 30 | sed 's/^/    /'
    count cargo 0 1 0
    return
  fi
  local log=$logs/cargo-test.log rc p f s
  cargo test --workspace --locked --no-fail-fast >"$log" 2>&1
  rc=$?
  grep -E '^test .* \.\.\. FAILED$' "$log" | sed 's/^test /FAIL /; s/ \.\.\. FAILED$//'
  # One "test result:" line per test binary and doc-test run; an ignored test is a skipped one.
  read -r p f s < <(awk '/^test result:/ {
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^passed;/) p += $(i - 1); if ($i ~ /^failed;/) f += $(i - 1); if ($i ~ /^ignored;/) s += $(i - 1)
      }
    } END { print p + 0, f + 0, s + 0 }' "$log")
  count cargo "$p" "$f" "$s"
  if ((rc != 0 && f == 0)); then
    echo "FAIL cargo test exited $rc with no failed test (a build error?):"; grep -E -A5 '^error' "$log" | head -n 30 | sed 's/^/    /'
    count cargo 0 1 0
  fi
}

part_conformance() {
  say "conformance: vigild -t and keepalived -t give the same verdict"
  local n log=$logs/conformance.log p f s
  n=$(find tests/conformance/configs -maxdepth 1 -name '*.conf' | wc -l)
  ((root)) || { skip_part conformance "$n" "it needs root"; return; }
  have keepalived || { skip_part conformance "$n" "keepalived is not installed"; return; }
  bash tests/conformance/run.sh >"$log" 2>&1
  # The configs whose verdicts differ, and any setup error.
  awk 'NR > 1 && ($4 == "MISMATCH" || $4 == "NO-LINE") { print "FAIL " $0 } /^run.sh: / { print }' "$log"
  read -r p f s < <(totals_of "$log")
  if [[ -z ${p:-} ]]; then
    echo "FAIL conformance: run.sh gave no total:"; tail -n 5 "$log" | sed 's/^/    /'
    count conformance 0 1 0
  else
    count conformance "$p" "$f" "$s"
  fi
}

part_vrrp() {
  say "vrrp: the failover scenarios, three pairings"
  local n pair log p f s
  n=$(bash tests/vrrp/run.sh --list | wc -l)
  for pair in "A=vigild B=keepalived" "A=keepalived B=vigild" "A=vigild B=vigild"; do
    if ((!root)); then skip_part vrrp "$n" "$pair: it needs root"; continue; fi
    if [[ $pair == *keepalived* ]] && ! have keepalived; then
      skip_part vrrp "$n" "$pair: keepalived is not installed"
      continue
    fi
    echo "-- $pair"
    log=$logs/vrrp-${pair// /-}.log
    # shellcheck disable=SC2086 # the pair is two words on purpose
    bash tests/vrrp/run.sh $pair 2>&1 | tee "$log" | verdicts
    p=
    read -r p f s < <(totals_of "$log")
    if [[ -z ${p:-} ]]; then
      echo "FAIL vrrp $pair: run.sh gave no total:"; tail -n 5 "$log" | sed 's/^/    /'
      count vrrp 0 1 0
    else
      echo "$pair: $p passed, $f failed, $s skipped"
      count vrrp "$p" "$f" "$s"
    fi
  done
}

part_scaleout() {
  say "scaleout: route health injection, three directors behind an ECMP router (BIRD and FRR, BFD)"
  local n log=$logs/scaleout.log p f s missing=()
  n=$(bash tests/scaleout/run.sh --list | wc -l)
  ((root)) || { skip_part scaleout "$n" "it needs root"; return; }
  { have bird && have birdc; } || missing+=(bird2)
  { have vtysh && [[ -x /usr/lib/frr/zebra && -x /usr/lib/frr/bgpd && -x /usr/lib/frr/bfdd ]]; } || missing+=(frr)
  ((${#missing[@]} == 0)) || { skip_part scaleout "$n" "it needs ${missing[*]}"; return; }
  bash tests/scaleout/run.sh 2>&1 | tee "$log" | verdicts
  p=
  read -r p f s < <(totals_of "$log")
  if [[ -z ${p:-} ]]; then
    echo "FAIL scaleout: run.sh gave no total:"; tail -n 5 "$log" | sed 's/^/    /'
    count scaleout 0 1 0
  else
    count scaleout "$p" "$f" "$s"
  fi
}

part_kernel_lab() {
  say "kernel lab: IPVS and the checkers in Debian's kernel under qemu (several minutes)"
  local n log=$logs/kernel-lab.log rc t missing=()
  n=$(find tests/kernel-lab/guest tests/kernel-lab/daemon tests/kernel-lab/scaleout -maxdepth 1 -name '*.sh' | wc -l)
  ((root)) || { skip_part kernel-lab "$n" "it needs root"; return; }
  have qemu-system-x86_64 || missing+=(qemu-system-x86)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  have ipvsadm || missing+=(ipvsadm)
  have cpio || missing+=(cpio)
  ((${#missing[@]} == 0)) || { skip_part kernel-lab "$n" "it needs ${missing[*]}"; return; }
  bash tests/kernel-lab/run.sh >"$log" 2>&1
  rc=$?
  # lab.sh's verdicts, one per script after the guest's console (whose own lines may start
  # with FAIL too), and run.sh's note on a script it left out.
  local verdict='^(PASS|FAIL) [^ ]+\.sh( \(.*\))?$'
  grep -E "$verdict" "$log"
  sed -nE 's/^kernel lab: (.*) skipped \((.*)\)$/SKIP \1: \2/p' "$log"
  count kernel-lab "$(grep -E "$verdict" "$log" | grep -c '^PASS')" "$(grep -E "$verdict" "$log" | grep -c '^FAIL')" \
    "$(grep -c '^kernel lab: .* skipped' "$log")"
  # A failed script's console, between its markers.
  grep -E "$verdict" "$log" | sed -n 's/^FAIL \([^ ]*\).*/\1/p' | while read -r t; do
    echo "    the guest's console for $t ('Killed' and 'Connection reset by peer' there are servers stopped on purpose):"
    awk -v t="$t" '$0 == "LAB-BEGIN " t { on = 1; next } $1 == "LAB-RESULT" && $2 == t { on = 0 } on' "$log" | tail -n 30 | sed 's/^/      /'
  done
  if grep -q '^lab: ' "$log"; then
    grep -A20 '^lab: ' "$log" | sed 's/^/    /'
    count kernel-lab 0 1 0
  elif ((rc != 0)) && ! grep -Eq "$verdict" "$log"; then
    echo "FAIL kernel lab: exit status $rc:"; tail -n 10 "$log" | sed 's/^/    /'
    count kernel-lab 0 1 0
  fi
}

part_signals() {
  say "signals: keepalived's signals to a running vigild, its JSON dump beside keepalived's"
  local log=$logs/signals.log p f s
  ((root)) || { skip_part signals 4 "it needs root"; return; }
  have keepalived || { skip_part signals 4 "keepalived is not installed"; return; }
  bash tests/signals/run.sh >"$log" 2>&1
  verdicts <"$log"
  p=
  read -r p f s < <(totals_of "$log")
  [[ -n ${p:-} ]] || { echo "FAIL signals: no total line; see $log"; p=0 f=1 s=0; }
  count signals "$p" "$f" "$s"
}

part_systemd() {
  say "systemd: the Debian package under a real systemd, in two systemd-nspawn containers (minutes; the first run builds a Debian root)"
  local log=$logs/systemd.log missing=() p f s
  ((root)) || { skip_part systemd 1 "it needs root"; return; }
  have systemd-nspawn || missing+=(systemd-container)
  have debootstrap || missing+=(debootstrap)
  have dpkg-shlibdeps || missing+=(dpkg-dev)
  ((${#missing[@]} == 0)) || { skip_part systemd 1 "it needs ${missing[*]}"; return; }
  bash tests/systemd/run.sh >"$log" 2>&1
  verdicts <"$log"
  p=
  read -r p f s < <(totals_of "$log")
  [[ -n ${p:-} ]] || { echo "FAIL systemd: no total line; see $log"; p=0 f=1 s=0; }
  count systemd "$p" "$f" "$s"
}

for p in "${parts[@]}"; do "part_${p//-/_}"; done

say "totals"
tp=0 tf=0 ts=0
for p in "${parts[@]}"; do
  printf '%-12s %5d passed, %d failed, %d skipped\n' "$p" "${PASS[$p]}" "${FAIL[$p]}" "${SKIP[$p]}"
  tp=$((tp + PASS[$p])) tf=$((tf + FAIL[$p])) ts=$((ts + SKIP[$p]))
done
echo "full output: $logs/"
echo "$tp passed, $tf failed, $ts skipped"
((tf == 0))
