#!/usr/bin/env bash
# Boots Debian's stock kernel under qemu and runs guest scripts inside it.
#
# Why: the build and CI machines' own kernel has no IPVS, so everything that programs IPVS is
# tested here, against the real ip_vs modules and the real ipvsadm.
#
# usage: lab.sh [-b BINARY]... SCRIPT...
#   -b BINARY   copied into the guest's /lab/bin (with its shared libraries, debug info stripped)
#   SCRIPT      guest scripts, run one after the other in one boot as `sh SCRIPT` from /lab;
#               the table, sync daemons and namespaces are cleared between them.
# Prints the guest's console, then `PASS name` / `FAIL name` per script; exits 0 if all passed.
#
# Inside the guest: busybox for the basics (sh, wget, httpd, nc), iproute2 as /sbin/ip (call it
# as $IP: busybox sh prefers its own `ip` applet), the real ipvsadm, /lab/bin first on PATH.
#
# LAB_QEMU_ARGS: more qemu options (scripts/bench-check.sh passes -icount there).
#
# The kernel is the package linux-image-amd64 points at today (LAB_KERNEL_PKG overrides), fetched
# with `apt-get download` and cached under ${XDG_CACHE_HOME:-$HOME/.cache}/vigil-kernel-lab.
# Needs (Debian): qemu-system-x86 busybox-static ipvsadm iproute2 cpio binutils
set -euo pipefail

bins=()
while getopts "b:" opt; do
  case $opt in
    b) bins+=("$OPTARG") ;;
    *) echo "usage: $0 [-b BINARY]... SCRIPT..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($# > 0)) || { echo "usage: $0 [-b BINARY]... SCRIPT..." >&2; exit 2; }

cache=${LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-kernel-lab}
mkdir -p "$cache"
if [[ ! -d $cache/kernel/boot ]]; then
  kpkg=${LAB_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
  [[ -n $kpkg ]] || { echo "lab: cannot tell which kernel linux-image-amd64 points at (apt-get update?)" >&2; exit 2; }
  (cd "$cache" && apt-get download "$kpkg" >/dev/null 2>&1)
  rm -rf "$cache/kernel.tmp"
  dpkg-deb -x "$cache/$kpkg"_*.deb "$cache/kernel.tmp"
  mv "$cache/kernel.tmp" "$cache/kernel"
  rm -f "$cache/$kpkg"_*.deb
fi
kver=$(ls "$cache/kernel/lib/modules" | head -n1)
moddir=$cache/kernel/lib/modules/$kver/kernel

root=$(mktemp -d)
trap 'rm -rf "$root" "$root.cpio.gz"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu,mods,lab/bin,lab/tests,proc,sys,dev,run,tmp,etc}
cp /bin/busybox "$root/bin/"
ln -s busybox "$root/bin/sh"

copy_with_libs() { # a dynamically linked binary and the libraries it needs
  cp "$1" "$2"
  { ldd "$1" 2>/dev/null || true; } | { grep -o '/[^ ]*\.so[^ ]*' || true; } | while read -r lib; do
    cp -Ln "$lib" "$root$lib" 2>/dev/null || cp -Ln "$lib" "$root/lib/x86_64-linux-gnu/"
  done
}
copy_with_libs /usr/sbin/ipvsadm "$root/sbin/"
copy_with_libs /usr/sbin/ip "$root/sbin/"
for b in "${bins[@]}"; do
  copy_with_libs "$b" "$root/lab/bin/"
  strip --strip-debug "$root/lab/bin/$(basename "$b")" 2>/dev/null || true
done

# Modules and their dependencies in load order, read from each module's own `depends=` field
# (the package ships no modules.dep: depmod runs at install time).
declare -A where loaded
while IFS= read -r f; do where[$(basename "$f" .ko)]=$f; done < <(find "$moddir" -name '*.ko')
order=()
want() {
  local m=$1 d
  [[ -n ${loaded[$m]:-} ]] && return
  [[ -n ${where[$m]:-} ]] || return 0 # not built for this kernel: the tests check what exists
  loaded[$m]=1
  for d in $(grep -ao 'depends=[^[:cntrl:]]*' "${where[$m]}" | head -n1 | cut -d= -f2 | tr ',' ' '); do want "$d"; done
  order+=("$m")
}
# libcrc32c asks the crypto API for crc32c at load time: a soft dependency depends= does not name.
for m in crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh \
  ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos ip_vs_pe_sip sctp veth ipip fou ip_gre \
  ip6_tunnel nlmon bridge; do
  want "$m"
done
for m in "${order[@]}"; do cp "${where[$m]}" "$root/mods/"; done

for s in "$@"; do cp "$s" "$root/lab/tests/"; done
names=$(for s in "$@"; do basename "$s"; done | tr '\n' ' ')

cat >"$root/init" <<INIT
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp; mkdir -p /run/netns
for m in ${order[*]}; do insmod /mods/\$m.ko || echo "insmod \$m failed"; done
/sbin/ip link set lo up
export PATH=/lab/bin:/sbin:/usr/sbin:/bin:/usr/bin IP=/sbin/ip HOME=/tmp
cd /lab
for t in $names; do
  echo "LAB-BEGIN \$t"
  sh /lab/tests/\$t; rc=\$?
  echo "LAB-RESULT \$t \$rc"
  ipvsadm -C; ipvsadm --stop-daemon master 2>/dev/null; ipvsadm --stop-daemon backup 2>/dev/null
  # Whatever the script left: its processes (a process keeps its namespace and links alive),
  # namespaces, links and addresses, so that the next script starts from a clean machine.
  for ns in \$(/sbin/ip netns list | cut -d' ' -f1); do kill -9 \$(/sbin/ip netns pids \$ns) 2>/dev/null; done
  killall -9 vigild httpd nc 2>/dev/null
  /sbin/ip -all netns delete 2>/dev/null
  for l in \$(/sbin/ip -o link show | awk -F': ' '{print \$2}' | cut -d@ -f1); do
    [ "\$l" = lo ] || /sbin/ip link del "\$l" 2>/dev/null
  done
  /sbin/ip addr flush dev lo scope global
  sleep 0.2
done
echo LAB-DONE
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$root.cpio.gz"

log=$(mktemp)
timeout "${LAB_TIMEOUT:-600}" qemu-system-x86_64 -m "${LAB_MEM:-1024}" -smp 1 -nographic -no-reboot ${LAB_QEMU_ARGS:-} \
  -kernel "$cache/kernel/boot/vmlinuz-$kver" -initrd "$root.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet" >"$log" 2>&1 || true
tr -d '\r' <"$log" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g' | awk '/LAB-BEGIN/{on=1} on || /insmod .* failed/' | grep -v '^LAB-DONE' || true
rc=0
for t in $names; do
  code=$(tr -d '\r' <"$log" | grep -a -o "^LAB-RESULT $t [0-9]*" | tail -n1 | cut -d' ' -f3 || true)
  if [[ ${code:-x} == 0 ]]; then echo "PASS $t"; else echo "FAIL $t (${code:-no result})"; rc=1; fi
done
grep -aq LAB-DONE "$log" || { echo "lab: the guest did not finish (timeout or panic); console tail:"; tail -n 20 "$log"; rc=1; }
rm -f "$log"
exit "$rc"
