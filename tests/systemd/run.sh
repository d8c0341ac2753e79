#!/usr/bin/env bash
# The sysadmin's day under a real systemd: the Debian package installed in two Debian 12
# containers with systemd as PID 1 (systemd-nspawn), each in a network namespace of this
# script's own on one bridge, and a third namespace as the client; then start, status, reload
# (a good and a broken edit), kill -9, stop, a package upgrade over a running vigild, and the
# package's removal, each step asserted and printed as PASS, FAIL or SKIP, with a total at the end.
#
#   bash tests/systemd/run.sh          as root; needs debootstrap, systemd-container, iproute2
#
# The Debian root is built once with debootstrap (a Debian mirror, from this machine's apt
# sources) and kept in target/systemd-lab/rootfs; each run boots two copies of it, removed at
# exit (their journals are kept as target/systemd-lab/last-run-{a,b}.journal). The packages
# come from scripts/package.sh (the version in Cargo.toml, then the same build as
# VERSION+systemdtest for the upgrade); VIGIL_DEB and VIGIL_DEB_NEW name prebuilt ones.
#
#   A  192.0.2.1/24  eth0 --+
#   B  192.0.2.2/24  eth0 --+-- br0 in C, 192.0.2.10/24 (the client)
#   VIP 192.0.2.100/24 (VI_1, vrid 51); A has priority 150 and starts as MASTER, B 100.

# dpkg-query formats and sh -c scripts are single-quoted on purpose.
# shellcheck disable=SC2016
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

pass=0 failed=0 skipped=0
PASS() { pass=$((pass + 1)); echo "PASS  $*"; }
FAIL() { failed=$((failed + 1)); echo "FAIL  $*"; }
SKIP() { skipped=$((skipped + 1)); echo "SKIP  $*"; }
# check NAME CMD...: PASS or FAIL on CMD's exit status; after a FAIL in the lab, what the
# pair looks like.
booted=
check() {
  local name=$1
  shift
  if "$@"; then PASS "$name"; else
    FAIL "$name"
    [[ -z $booted ]] || pair
    return 1
  fi
}
info() { echo "      $*"; }
indent() { sed "s/^/      /"; }
total() { echo "$pass passed, $failed failed, $skipped skipped"; }

if [[ $(id -u) -ne 0 ]]; then
  SKIP "systemd lab: needs root (network namespaces, systemd-nspawn); run: sudo bash tests/systemd/run.sh"
  total
  exit 0
fi
missing=()
for tool in systemd-nspawn debootstrap ip nsenter dpkg-deb; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  SKIP "systemd lab: ${missing[*]} missing (apt-get install systemd-container debootstrap iproute2 util-linux)"
  total
  exit 0
fi

lab=$(realpath -m "${CARGO_TARGET_DIR:-target}/systemd-lab")
rootfs=$lab/rootfs
id=vsd$$
run=$lab/run-$$
NS_A=${id}a NS_B=${id}b NS_C=${id}c
VIP=192.0.2.100
VIP2=192.0.2.101
VIP3=192.0.2.102
ANN_VIP=192.0.2.250
declare -A NSPAWN=([a]="" [b]="") NETNS=([a]=$NS_A [b]=$NS_B) ADDR=([a]=192.0.2.1 [b]=192.0.2.2)

cleanup() {
  local n p
  for n in a b; do
    p=${NSPAWN[$n]}
    [[ -n $p ]] || continue
    # The journals outlive the run, for a look after a failure.
    on "$n" journalctl --no-pager -o short-precise >"$lab/last-run-$n.journal" 2>&1
    # nspawn asks the container's systemd to shut down: vigild gets its SIGTERM from it.
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  for n in "$NS_A" "$NS_B" "$NS_C"; do ip netns del "$n" 2>/dev/null; done
  for n in a b; do cgroup_remove "$id-$n"; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the root file system, built once ----------------------------------------------------

build_rootfs() {
  [[ -f $rootfs/.vigil-lab-ready ]] && { info "rootfs: reusing $rootfs"; return 0; }
  local mirror start
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [[ -n $mirror ]] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [[ -n $mirror ]] || { echo "no Debian mirror in this machine's apt sources" >&2; return 1; }
  start=$SECONDS
  info "rootfs: debootstrap bookworm from $mirror (once; kept in $rootfs)"
  rm -rf "$rootfs" "$rootfs.tmp"
  mkdir -p "$lab"
  # kmod and ipvsadm: what a director has; procps: pgrep in the checks below.
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2,procps,kmod,ipvsadm \
    bookworm "$rootfs.tmp" "$mirror" >"$lab/debootstrap.log" 2>&1 ||
    { tail -5 "$lab/debootstrap.log" >&2; return 1; }
  # Each container then gets a machine id of its own at boot.
  : >"$rootfs.tmp/etc/machine-id"
  rm -f "$rootfs.tmp/var/lib/dbus/machine-id"
  chroot "$rootfs.tmp" apt-get clean
  touch "$rootfs.tmp/.vigil-lab-ready"
  mv "$rootfs.tmp" "$rootfs"
  info "rootfs: built in $((SECONDS - start)) s"
}

# ---- containers --------------------------------------------------------------------------

leader() { ps -o pid= --ppid "${NSPAWN[$1]}" 2>/dev/null | head -1 | tr -d ' '; }
# on NODE CMD...: CMD inside the container, as a root shell there would run it.
on() {
  local node=$1 pid
  shift
  pid=$(leader "$node")
  [[ -n $pid ]] || return 125
  nsenter -t "$pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 SYSTEMD_COLORS=0 "$@"
}

# Each container in a cgroup of its own, under this script's. Without a registration nspawn
# puts the container's cgroups under the one it runs in: two containers started from this
# shell would share every unit's cgroup, and b's systemd would see a's vigild in its
# vigild.service. CGROUP_HOMES: this script's cgroup in each hierarchy that systemd uses (the
# unified one; on a hybrid host also name=systemd).
cgroup_homes() {
  local own
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    [[ -n $own ]] && echo "/sys/fs/cgroup$own"
  else
    [[ -n $own && -d /sys/fs/cgroup/unified ]] && echo "/sys/fs/cgroup/unified$own"
    own=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/self/cgroup)
    [[ -n $own && -d /sys/fs/cgroup/systemd ]] && echo "/sys/fs/cgroup/systemd$own"
  fi
}
mapfile -t CGROUP_HOMES < <(cgroup_homes)
# cgroup_enter NAME: this (sub)shell into a new cgroup NAME in each home.
cgroup_enter() {
  local h
  ((${#CGROUP_HOMES[@]})) || { echo "no cgroup hierarchy of systemd's found in /proc/self/cgroup" >&2; return 1; }
  cgroup_remove "$1"
  for h in "${CGROUP_HOMES[@]}"; do
    mkdir "${h%/}/$1" && echo "$BASHPID" >"${h%/}/$1/cgroup.procs" || return 1
  done
}
# cgroup_remove NAME: the cgroup NAME and those under it; what still runs there (a container
# that outlived its nspawn's SIGKILL) is killed first.
cgroup_remove() {
  local h dir pid i
  for h in "${CGROUP_HOMES[@]}"; do
    dir=${h%/}/$1
    [[ -d $dir ]] || continue
    for i in $(seq 20); do
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ -d $dir ]] || break
      for pid in $(find "$dir" -name cgroup.procs -exec cat {} +); do kill -KILL "$pid" 2>/dev/null; done
      sleep 0.1
    done
    [[ -d $dir ]] && echo "cgroup $dir is left: $(find "$dir" -name cgroup.procs -exec cat {} + | tr '\n' ' ')" >&2
  done
  return 0
}
boot() {
  local node=$1 dir=$run/$1 i state
  cp -a "$rootfs" "$dir"
  echo "director-$node" >"$dir/etc/hostname"
  (
    cgroup_enter "$id-$node" || { echo "no cgroup of its own for container $node" >&2; exit 1; }
    exec systemd-nspawn -D "$dir" --register=no --keep-unit --boot --console=pipe -M "$id-$node" \
      --capability=CAP_NET_ADMIN,CAP_NET_RAW --network-namespace-path="/run/netns/${NETNS[$node]}"
  ) </dev/null >"$run/$node.boot.log" 2>&1 &
  NSPAWN[$node]=$!
  for i in $(seq 120); do
    sleep 0.5
    kill -0 "${NSPAWN[$node]}" 2>/dev/null || break
    state=$(on "$node" systemctl is-system-running 2>/dev/null)
    [[ $state == running || $state == degraded ]] && {
      [[ $state == degraded ]] && info "$node: systemd is degraded: $(on "$node" systemctl --failed --no-legend | tr -s ' ' | tr '\n' ';')"
      return 0
    }
  done
  echo "container $node did not boot; see $run/$node.boot.log" >&2
  return 1
}

net() {
  local n
  for n in "$NS_A" "$NS_B" "$NS_C"; do ip netns add "$n" || return 1; ip -n "$n" link set lo up; done
  ip -n "$NS_C" link add br0 type bridge && ip -n "$NS_C" link set br0 up &&
    ip -n "$NS_C" addr add 192.0.2.10/24 dev br0 || return 1
  for n in a b; do
    ip -n "$NS_C" link add "port$n" type veth peer name eth0 netns "${NETNS[$n]}" &&
      ip -n "$NS_C" link set "port$n" master br0 up &&
      ip -n "${NETNS[$n]}" addr add "${ADDR[$n]}/24" dev eth0 &&
      ip -n "${NETNS[$n]}" link set eth0 up || return 1
  done
}

# ---- what the checks read ----------------------------------------------------------------

conf() { # conf NODE [EXTRA-VIP-LINE]: keepalived.conf for NODE
  local prio=100 state=BACKUP
  [[ $1 == a ]] && prio=150 state=MASTER
  cat <<EOF
global_defs {
    router_id director-$1
}

vrrp_instance VI_1 {
    state $state
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $VIP/24
        ${2:-}
    }
}
EOF
}
# reload_failed NODE: vigild's status line says its last reload failed.
reload_failed() { contains "$(on "$1" systemctl status vigild --no-pager -n 0 2>&1)" "last reload failed"; }
write_conf() { mkdir -p "$run/$1/etc/keepalived" && conf "$@" >"$run/$1/etc/keepalived/keepalived.conf"; }

# has_vip NODE ADDR. Not "ip ... | grep -q": under pipefail, grep's exit at the first match can
# end ip with SIGPIPE while it still writes the next address, and a VIP that is there then
# reads as missing (a CI run's step 8 failed so, with both VIPs on a).
has_vip() { [[ $(ip -n "${NETNS[$1]}" -4 -o addr show dev eth0) == *" $2/"* ]]; }
journal() { on "$1" journalctl -u vigild --no-pager -o cat; }
count() { journal "$1" | grep -c -- "$2"; }
# cursor NODE: where vigild's journal ends now; journal_since NODE CURSOR: its lines after it,
# with times and pids, for a look after a failed check.
cursor() { on "$1" journalctl -u vigild -n 1 --show-cursor --no-pager -o cat | sed -n 's/^-- cursor: //p'; }
journal_since() { on "$1" journalctl -u vigild --no-pager -o short-precise --after-cursor="$2"; }
gt_count() { [[ $(count "$1" "$2") -gt $3 ]]; }
# wait_for SECONDS CMD...: true once CMD is, polling; the bound only ends a hang.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 5; i++)); do "$@" && return 0; sleep 0.2; done
  return 1
}
prop() { on "$1" systemctl show -p "$2" --value vigild; }
gt_prop() { [[ $(prop "$1" "$2") -gt $3 ]]; }
same_pid() { [[ $(prop "$1" MainPID) == "$2" ]]; }
new_pid() { local pid; pid=$(prop "$1" MainPID); [[ $pid != 0 && $pid != "$2" ]]; }
active_running() { [[ $(prop "$1" ActiveState) == active && $(prop "$1" SubState) == running ]]; }
# vigil_status NODE [ARG...]: `vigilctl status ARG...` in NODE. The socket is named, so that the
# other steps do not depend on step 2 (vigilctl finding it by itself).
vigil_status() {
  local node=$1
  shift
  on "$node" sh -c 'vigilctl status "$@" --socket "$(ls /run/vigil/vigild*.sock | head -1)"' sh "$@" 2>/dev/null
}
# state NODE: VI_1's state as `vigilctl status` prints it.
state() { vigil_status "$1" | vi_1_state; }
vi_1_state() { awk '$1 == "VI_1" { print $2 }'; }
# moves NODE: "PID TRANSITIONS SINCE" as the running vigild's status says: its pid, how many
# times VI_1 changed state, and when it entered its current state. What the daemon did, with
# no wait for its lines to reach the journal; a restart of vigild or of VI_1 by a reload
# changes it even where the count comes back to the same number.
moves() {
  local doc vrrp
  doc=$(vigil_status "$1" --json)
  vrrp=${doc#*\"vrrp\":\[}
  [[ $vrrp != "$doc" ]] || return 0
  echo "$(field pid "${doc%%\"vrrp\":*}") $(field transitions "$vrrp") $(field since "$vrrp")"
}
# field NAME JSON: the first number NAME has in JSON (compact, as vigild writes it).
field() { [[ $2 =~ \"$1\":([0-9.]+) ]] && echo "${BASH_REMATCH[1]}"; }
# read_moves M...: each M was read whole (a pid, 1 transition or more: entering BACKUP at the
# start is one, and a time), so that a comparison of two is not of two failed reads.
read_moves() { local m; for m; do [[ $m =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [0-9]+(\.[0-9]+)?$ ]] || return 1; done; }
masters() { local n c=0; for n in a b; do [[ $(state "$n") == MASTER ]] && c=$((c + 1)); done; echo "$c"; }
# The pair as it should be: A MASTER, B BACKUP, the VIPs on A only.
settled() {
  local v
  [[ $(state a) == MASTER && $(state b) == BACKUP ]] || return 1
  for v in "$VIP" "$@"; do has_vip a "$v" && ! has_vip b "$v" || return 1; done
}
# last_entered NODE: the state named by the node's newest "Entering ... STATE" journal line.
# The running vigild's own lines only: after a restart, the previous process's last line
# (MASTER before an upgrade) must not pass for the new one's.
last_entered() {
  on "$1" journalctl -u vigild _PID="$(prop "$1" MainPID)" --no-pager -o cat |
    grep -o 'Entering [A-Z]* STATE' | tail -1 | awk '{ print $2 }'
}
# settled_logged VIP...: settled, and journald has caught up with it (a line reaches the journal
# a moment after the state shows in vigilctl status), so counts of lines taken now stay put.
settled_logged() {
  settled "$@" && [[ $(last_entered a) == MASTER && $(last_entered b) == BACKUP ]]
}
# client_reaches NODE: from the client's namespace, the VIP answers at NODE's MAC address (the
# client's ARP entry is kept from one call to the next: a takeover must correct it with its
# gratuitous ARPs).
client_reaches() {
  local mac
  mac=$(ip -n "${NETNS[$1]}" -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  ip netns exec "$NS_C" ping -q -c 1 -W 2 "$VIP" >/dev/null 2>&1 &&
    [[ $(ip -n "$NS_C" neigh show "$VIP" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2) == "$mac" ]]
}
holders() { local n c=0; for n in a b; do has_vip "$n" "$VIP" && c=$((c + 1)); done; echo "$c"; }
# sample FILE: while FILE exists, every 0.2 s, counts the samples where both nodes say MASTER
# (into FILE.masters) and where both hold the VIP (into FILE.vips).
sample() {
  local masters=0 vips=0
  while [[ -e $1 ]]; do
    [[ $(masters) -ge 2 ]] && masters=$((masters + 1))
    [[ $(holders) -ge 2 ]] && vips=$((vips + 1))
    sleep 0.2
  done
  echo "$masters" >"$1.masters"
  echo "$vips" >"$1.vips"
}
# sampled NAME: the checks on what sample saw.
sampled() {
  check "$1: never two MASTERs at once in the samples ($(cat "$run/sampling.masters") had two)" \
    is "$(cat "$run/sampling.masters")" 0
  check "$1: never the VIP on both nodes in the samples ($(cat "$run/sampling.vips") had it twice)" \
    is "$(cat "$run/sampling.vips")" 0
}
# signal NODE SIG: SIG to vigild's main process in NODE; never to pid 0 (the whole group).
signal() {
  local pid
  pid=$(prop "$1" MainPID)
  [[ $pid =~ ^[1-9][0-9]*$ ]] && on "$1" kill "-$2" "$pid"
}
# pair: what the checks read, printed after a failed one.
pair() {
  local n
  for n in a b; do
    info "$n: vigild $(prop "$n" ActiveState)/$(prop "$n" SubState) pid $(prop "$n" MainPID)," \
      "VI_1 $(state "$n"), eth0 $(ip -n "${NETNS[$n]}" -4 -o addr show dev eth0 | awk '{ printf "%s ", $4 }')"
  done
}
is() { [[ $1 == "$2" ]]; }
quiet() { "$@" >/dev/null 2>&1; }
contains() { [[ $1 == *"$2"* ]]; }
not() { ! "$@"; }
# all CMD1 -- CMD2 -- ...: true when every command is.
all() {
  local cmd=()
  while (($#)); do
    if [[ $1 == -- ]]; then "${cmd[@]}" || return 1; cmd=(); else cmd+=("$1"); fi
    shift
  done
  "${cmd[@]}"
}

# ---- the run -----------------------------------------------------------------------------

t0=$SECONDS
mkdir -p "$run"
build_rootfs || { FAIL "rootfs: debootstrap failed (see $lab/debootstrap.log)"; total; exit 1; }

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
arch=$(dpkg --print-architecture)
deb=${VIGIL_DEB:-}
deb_new=${VIGIL_DEB_NEW:-}
if [[ -z $deb ]]; then
  info "packages: scripts/package.sh (a release build)"
  scripts/package.sh >"$run/package.log" 2>&1 || { FAIL "scripts/package.sh: $(tail -3 "$run/package.log")"; total; exit 1; }
  deb=${CARGO_TARGET_DIR:-target}/debian/vigil_${version}_${arch}.deb
fi
if [[ -z $deb_new ]]; then
  # The same binaries as the first package: only the version is newer.
  VIGIL_DEB_PREBUILT=1 VIGIL_DEB_VERSION=$version+systemdtest scripts/package.sh >>"$run/package.log" 2>&1 ||
    { FAIL "scripts/package.sh (upgrade build): $(tail -3 "$run/package.log")"; total; exit 1; }
  deb_new=${CARGO_TARGET_DIR:-target}/debian/vigil_${version}+systemdtest_${arch}.deb
fi
deb=$(realpath "$deb") deb_new=$(realpath "$deb_new")
new_version=$(dpkg-deb -f "$deb_new" Version)
info "packages: $deb ($(dpkg-deb -f "$deb" Version)), $deb_new ($new_version)"

# The man pages render without a warning; lintian finds no error.
dpkg-deb -x "$deb" "$run/deb"
if command -v man >/dev/null; then
  bad=
  for page in "$run"/deb/usr/share/man/man*/*.gz; do
    out=$(man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    [[ -z $out ]] || bad+=" $(basename "$page"): $out"
  done
  check "package: the man pages render with man -l, with no warning$bad" is "$bad" ""
else
  SKIP "package: man pages (man-db not installed)"
fi
if command -v lintian >/dev/null; then
  lintian_out=$(lintian "$deb" 2>&1)
  check "package: lintian reports no error" is "$(grep -c '^E: ' <<<"$lintian_out")" 0
  grep '^[EW]: ' <<<"$lintian_out" | sed 's/^/      lintian: /'
else
  SKIP "package: lintian (not installed)"
fi

net || { FAIL "network namespaces and bridge"; total; exit 1; }
for n in a b; do
  boot "$n" || { FAIL "boot container $n"; total; exit 1; }
done
booted=1
info "containers booted ($((SECONDS - t0)) s since the start)"

# 0. Installation on a fresh Debian 12, offline: every dependency is in the base system. On
# b, keepalived.service is enabled (its link only: keepalived is not in the root), so the
# package leaves vigild.service disabled there.
wants=$run/b/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants"
ln -s /lib/systemd/system/keepalived.service "$wants/keepalived.service"
for n in a b; do
  cp "$deb" "$run/$n/root/"
  out=$(on "$n" apt-get install -y -q --no-install-recommends "/root/$(basename "$deb")" 2>&1)
  check "0. $n: apt-get install ./$(basename "$deb") (offline, fresh Debian 12)" \
    is "$(on "$n" dpkg-query -W -f '${Status}' vigil)" "install ok installed" || indent <<<"$out"
done
check "0. a: vigild.service enabled by the package" is "$(on a systemctl is-enabled vigild 2>&1)" enabled
check "0. b: with keepalived.service enabled, vigild.service left disabled, and the package says so" \
  all is "$(on b systemctl is-enabled vigild 2>&1)" disabled -- contains "$out" "vigild.service is left disabled"
rm "$wants/keepalived.service"
on b systemctl enable --quiet vigild
# With no configuration the service is not started, and status says why.
on a systemctl start vigild
check "0. a: without keepalived.conf vigild.service stays inactive" is "$(prop a ActiveState)" inactive
check "0. a: and systemctl status says why (ConditionFileNotEmpty)" \
  contains "$(on a systemctl status vigild --no-pager 2>&1)" "ConditionFileNotEmpty=/etc/keepalived/keepalived.conf was not met"

# 1. start: active (running) once ready, the STATUS line, MASTER on A and BACKUP on B.
write_conf a
write_conf b
on a systemctl start vigild
on b systemctl start vigild
for n in a b; do
  check "1. $n: systemctl start vigild: active (running)" active_running "$n"
  line=$(on "$n" systemctl status vigild --no-pager 2>&1 | grep -m1 'Status: "' | sed 's/^ *//')
  check "1. $n: systemctl status shows vigild's STATUS line: $line" contains "$line" 'Status: "'
done
check "1. a: journalctl -u vigild has (VI_1) Entering MASTER STATE" \
  wait_for 20 gt_count a "(VI_1) Entering MASTER STATE" 0
check "1. b: journalctl -u vigild has (VI_1) Entering BACKUP STATE" \
  wait_for 20 gt_count b "(VI_1) Entering BACKUP STATE" 0
check "1. the VIP is on the MASTER (a) only" wait_for 10 settled
if command -v ping >/dev/null; then
  check "1. the client reaches the VIP at a's MAC address" client_reaches a
else
  SKIP "1. the client reaches the VIP: ping is not installed (iputils-ping)"
fi
if ! active_running a || ! active_running b; then
  SKIP "2-7: not run, vigild is not running in both containers"
  for n in a b; do on "$n" journalctl -u vigild --no-pager -n 15 | sed "s/^/      $n: /"; done
  total
  exit 1
fi

# 2. vigilctl from a root shell, and from a process under the unit's own sandbox.
out=$(on a vigilctl status 2>&1)
check "2. a: vigilctl status from a root shell reaches the daemon (VI_1 MASTER)" is "$(vi_1_state <<<"$out")" MASTER ||
  indent <<<"$out"
out=$(on a systemd-run --quiet --wait --pipe --collect -p "CapabilityBoundingSet=$(prop a CapabilityBoundingSet)" \
  -p ProtectSystem=full -p ProtectHome=read-only -p ProtectKernelModules=yes -p ProtectKernelLogs=yes \
  -p ProtectControlGroups=yes -p RestrictNamespaces=yes -p RestrictSUIDSGID=yes -p LockPersonality=yes \
  -p "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET" vigilctl status 2>&1)
check "2. a: vigilctl status under the unit's hardening reaches the same daemon" is "$(vi_1_state <<<"$out")" MASTER ||
  indent <<<"$out"

# 3. reload: a VIP written with dev; then a broken file.
moved_a=$(moves a) moved_b=$(moves b)
write_conf a "$VIP2/24 dev eth0"
write_conf b "$VIP2/24 dev eth0"
check "3. a: systemctl reload vigild (VIP $VIP2/24 dev eth0 added) succeeds" on a systemctl reload vigild
check "3. b: the same on the BACKUP" on b systemctl reload vigild
reload_logged() { contains "$(journal a | grep -E 'Reloading|Reload finished' | tr '\n' ' ')" "Reload finished"; }
check "3. a: the journal shows the reload and its result" wait_for 10 reload_logged
check "3. $VIP2 appears on the MASTER, not on the BACKUP" wait_for 10 settled "$VIP2"
check "3. no state change on either node (vigild's pid, VI_1's transitions and since: $moved_a; $moved_b)" \
  all read_moves "$moved_a" "$moved_b" -- is "$(moves a); $(moves b)" "$moved_a; $moved_b"
pid_before=$(prop a MainPID)
write_conf a "192.0.2.300/24 dev eth0"
broken_line=$(grep -n 192.0.2.300 "$run/a/etc/keepalived/keepalived.conf" | cut -d: -f1)
check "3. a: systemctl reload vigild fails on a broken file" all active_running a -- not quiet on a systemctl reload vigild
status=$(on a systemctl status vigild --no-pager -n 20 2>&1)
check "3. a: systemctl status shows the reason with keepalived.conf:$broken_line" contains "$status" "keepalived.conf:$broken_line"
grep -m3 -F "keepalived.conf:" <<<"$status" | sed 's/^ */      /'
# systemd reads vigild's READY=1 after the failed reload a moment after systemctl returns.
check "3. a: still active on the previous configuration (same pid, MASTER, both VIPs)" \
  wait_for 10 all active_running a -- same_pid a "$pid_before" -- settled "$VIP2"
write_conf a "$VIP2/24 dev eth0"
check "3. a: the file mended, systemctl reload succeeds again" on a systemctl reload vigild

# 3b. Autoreload (ldirectord's habit): with vigild-reload.path enabled, an edit is applied
# with no manual reload, in place; a broken edit is refused as any reload is.
check "3b. a: systemctl enable --now vigild-reload.path" on a systemctl enable --now vigild-reload.path
moved_a=$(moves a) moved_b=$(moves b)
edit_at=$(date +%s%N)
write_conf a "$VIP2/24 dev eth0
        $VIP3/24 dev eth0"
# The time is printed for the issue's goal (2 s), not asserted: the bound only ends a hang.
check "3b. a: an edit adding $VIP3 puts it on the MASTER with no manual reload" wait_for 20 has_vip a "$VIP3"
info "$VIP3 on a $((($(date +%s%N) - edit_at) / 1000000)) ms after the file was written (goal: 2,000 ms)"
check "3b. no state change" all read_moves "$moved_a" "$moved_b" -- is "$(moves a); $(moves b)" "$moved_a; $moved_b"
write_conf a "192.0.2.300/24 dev eth0"
check "3b. a: a broken edit is refused: systemctl status vigild shows the reason" wait_for 5 reload_failed a
check "3b. a: still MASTER with $VIP3" all active_running a -- has_vip a "$VIP3"
write_conf a "$VIP2/24 dev eth0"
check "3b. a: the file mended: $VIP3 goes, with no manual reload" wait_for 5 not has_vip a "$VIP3"
check "3b. a: systemctl disable --now vigild-reload.path" on a systemctl disable --now vigild-reload.path

# 4. kill -9 the MASTER's vigild: systemd starts it again, and only one MASTER comes out.
restarts=$(prop a NRestarts) masters_b=$(count b "Entering MASTER STATE") pid_before=$(prop a MainPID)
touch "$run/sampling"
sample "$run/sampling" &
sampler=$!
check "4. a: kill -9 vigild's main process ($pid_before)" signal a KILL
check "4. a: systemd restarted vigild after kill -9" wait_for 15 all gt_prop a NRestarts "$restarts" -- active_running a
check "4. one MASTER after: a MASTER, b BACKUP, the VIPs on a only" wait_for 20 settled "$VIP2"
rm "$run/sampling"
wait "$sampler"
sampled "4. while systemd restarted vigild"
info "b entered MASTER $(($(count b "Entering MASTER STATE") - masters_b)) time(s) while a's vigild was down"

# The watchdog: only when the unit has WatchdogSec, which needs vigild to send WATCHDOG=1.
watchdog=$(prop a WatchdogUSec)
if [[ -z $watchdog || $watchdog == 0 || $watchdog == infinity ]]; then
  SKIP "4. SIGSTOP: the unit has no WatchdogSec (vigild sends no WATCHDOG=1 yet), so a hung vigild is not restarted"
else
  restarts=$(prop a NRestarts)
  signal a STOP
  check "4. a: vigild stopped with SIGSTOP is killed by the watchdog ($watchdog) and restarted" \
    wait_for 120 gt_prop a NRestarts "$restarts"
  wait_for 20 settled "$VIP2"
fi

# 4c. Route announcements (docs/scale-out.md): a reload that finds /etc/vigil/announce.conf
# starts them; after kill -9 the unit's ExecStopPost (vigild --withdraw) removes the route the
# dead vigild left, before systemd starts it again.
announced() { [[ $(ip -n "${NETNS[a]}" route show table 100 proto 200) == *"$ANN_VIP dev lo"* ]]; }
mkdir -p "$run/a/etc/vigil"
printf 'announce {\n  table 100\n  protocol 200\n  vip %s\n}\n' "$ANN_VIP" >"$run/a/etc/vigil/announce.conf"
check "4c. a: systemctl reload with /etc/vigil/announce.conf announces $ANN_VIP (table 100)" \
  all on a systemctl reload vigild -- wait_for 10 announced
restarts=$(prop a NRestarts) withdrawn=$(count a "1 announced route(s) withdrawn")
signal a KILL
check "4c. a: after kill -9, ExecStopPost (vigild --withdraw) removed the route" \
  wait_for 15 gt_count a "1 announced route(s) withdrawn" "$withdrawn"
check "4c. a: restarted, announcing again" wait_for 15 all gt_prop a NRestarts "$restarts" -- announced
wait_for 20 settled "$VIP2"

# 5. systemctl stop on the MASTER: the BACKUP takes over, the stopped node keeps no VIP.
masters_b=$(count b "Entering MASTER STATE")
stop_at=$(date +%s%N)
on a systemctl stop vigild
check "5. b: Entering MASTER STATE after a's stop, with the VIP" \
  wait_for 10 all gt_count b "Entering MASTER STATE" "$masters_b" -- has_vip b "$VIP"
info "b held $VIP $((($(date +%s%N) - stop_at) / 1000000)) ms after systemctl stop returned on a (Skew_Time: 609 ms)"
check "5. a: inactive, and holds neither VIP" \
  all is "$(prop a ActiveState)" inactive -- not has_vip a "$VIP" -- not has_vip a "$VIP2"
if command -v ping >/dev/null; then
  check "5. the client reaches the VIP at b's MAC address now (gratuitous ARP)" client_reaches b
else
  SKIP "5. the client reaches the VIP: ping is not installed (iputils-ping)"
fi

# 6. Structured journal fields.
on a systemctl start vigild
wait_for 20 settled "$VIP2"
if [[ -n $(on a journalctl -u vigild --no-pager -o cat INSTANCE=VI_1 2>/dev/null) ]]; then
  check "6. journalctl -u vigild INSTANCE=VI_1 VRID=51 STATE=MASTER finds the transition" \
    contains "$(on a journalctl -u vigild --no-pager -o cat INSTANCE=VI_1 VRID=51 STATE=MASTER)" "Entering MASTER STATE"
else
  SKIP "6. structured fields: vigild writes plain lines to the journal (no INSTANCE, VRID, STATE fields yet)"
fi

# 7. Upgrade over a running vigild: dpkg -i of a newer build on the BACKUP, then on the MASTER.
for n in b a; do
  other=a
  [[ $n == a ]] && other=b
  wait_for 20 settled_logged "$VIP2"
  cp "$deb_new" "$run/$n/root/"
  entered=$(count "$other" Entering) entered_master=$(count "$other" "Entering MASTER STATE") pid_before=$(prop "$n" MainPID)
  touch "$run/sampling"
  sample "$run/sampling" &
  sampler=$!
  rc=0
  on "$n" dpkg -i "/root/$(basename "$deb_new")" >"$run/upgrade-$n.log" 2>&1 || rc=$?
  check "7. $n: dpkg -i $(basename "$deb_new") over a running vigild" \
    is "$rc $(on "$n" dpkg-query -W -f '${Version}' vigil)" "0 $new_version"
  check "7. $n: the upgrade restarted vigild (new pid), active (running)" \
    wait_for 10 all new_pid "$n" "$pid_before" -- active_running "$n"
  check "7. after the upgrade of $n: a MASTER, b BACKUP, the VIPs on a only" wait_for 20 settled "$VIP2"
  rm "$run/sampling"
  wait "$sampler"
  sampled "7. during the upgrade of $n"
  info "during the upgrade of $n, $other logged $(($(count "$other" Entering) - entered)) transition(s)," \
    "$(($(count "$other" "Entering MASTER STATE") - entered_master)) of them to MASTER"
done
if [[ -e /proc/net/ip_vs ]]; then
  SKIP "7. IPVS table across the upgrade: not in this lab yet"
else
  SKIP "7. IPVS table across the upgrade: this kernel has no IPVS (no /proc/net/ip_vs)"
fi

# 8. Removal and purge on the BACKUP: vigild stops, the MASTER stays, keepalived.conf stays.
wait_for 20 settled_logged "$VIP2"
moved_a=$(moves a) since=$(cursor a)
conf_sum=$(md5sum <"$run/b/etc/keepalived/keepalived.conf")
on b apt-get remove -y -q vigil >"$run/remove.log" 2>&1
check "8. b: apt-get remove vigil stops vigild" \
  all not quiet on b pgrep -x vigild -- is "$(on b dpkg-query -W -f '${Status}' vigil)" "deinstall ok config-files"
check "8. b: /etc/default/vigild (a conffile) stays until purge" test -f "$run/b/etc/default/vigild"
on b apt-get purge -y -q vigil >>"$run/remove.log" 2>&1
check "8. b: apt-get purge vigil removes /etc/default/vigild and the unit's enablement" \
  all not test -e "$run/b/etc/default/vigild" -- not test -e "$run/b/etc/systemd/system/multi-user.target.wants/vigild.service"
check "8. b: /etc/keepalived/keepalived.conf is left as it was" is "$(md5sum <"$run/b/etc/keepalived/keepalived.conf")" "$conf_sum"
moved_now=$(moves a) state_now=$(state a)
check "8. a: no state change, still MASTER with the VIPs (vigild's pid, VI_1's transitions and since: $moved_a)" \
  all read_moves "$moved_a" -- is "$moved_now $state_now" "$moved_a MASTER" -- has_vip a "$VIP" -- has_vip a "$VIP2" ||
  {
    info "read after b's removal: $moved_now, VI_1 $state_now"
    if [[ -n $since ]]; then
      info "a's vigild journal since b's removal began:"
      journal_since a "$since" | indent
    fi
  }

info "lab time: $((SECONDS - t0)) s"
total
[[ $failed -eq 0 ]]
