# Every service and destination kind round-trips between Vigil's IPVS client and ipvsadm:
# written by us, ipvsadm reads it back (-Sn) and lists it (-Ln) exactly as `vigilctl ipvs` does;
# written by ipvsadm, we read it back the same. Then edits, thresholds, timeouts, sync daemons,
# error messages, re-applying without writes, and counters after traffic through LVS-NAT.
# Runs in the kernel lab's guest (busybox sh), from tests/kernel-lab/lab.sh.
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
same() { # NAME FILE FILE
  if cmp -s "$2" "$3"; then ok "$1"; else bad "$1"; diff -u "$2" "$3"; fi
}
contains() { # NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1 (want: $3)"; cat "$2"; fi
}
cd /tmp

cat >rules <<'RULES'
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 3
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 0
-a -t 10.0.0.1:80 -r 10.0.1.3:80 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:80 -r 10.0.1.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.0.0.1:80 -r 10.0.1.5:80 -i -w 1 --tun-type gre --tun-nocsum
-a -t 10.0.0.1:80 -r 10.0.1.6:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-csum
-a -t 10.0.0.1:80 -r 10.0.1.7:80 -i -w 1 --tun-type gre --tun-csum
-a -t 10.0.0.1:80 -r 10.0.1.8:80 -i -w 1 --tun-type gue --tun-port 6082 --tun-remcsum
-a -t 10.0.0.1:80 -r 200.0.0.1:80 -m -w 2147483647
-a -t 10.0.0.1:80 -r 129.0.0.1:80 -m -w 1
-A -t 10.0.0.1:0 -s wlc -p 300
-a -t 10.0.0.1:0 -r 10.0.1.1:0 -g -w 1
-A -u 10.0.0.2:53 -s wlc -p 360 -M 255.255.255.0
-a -u 10.0.0.2:53 -r 10.0.1.1:5353 -m -w 1
-A -u 10.0.0.3:0 -s sh -p 360 -b sh-fallback,sh-port
-A -u 10.0.0.5:53 -s rr -p 30 -o
-A -u 10.0.0.6:53 -s rr -o
-A --sctp-service 10.0.0.4:3868 -s mh -b mh-fallback,mh-port
-a --sctp-service 10.0.0.4:3868 -r 10.0.2.1:3868 -m -w 5
-A -t 10.0.0.11:80 -s nq -b flag-1,flag-2,flag-3
-A -t 10.0.0.123:65535 -s wrr -p 10 -M 255.0.0.0
-A -t 200.1.1.1:80 -s rr
-A -t 127.0.0.1:80 -s rr
-A -f 1 -s rr
-a -f 1 -r 10.1.1.1:0 -g -w 1
-a -f 1 -r 10.1.1.1:443 -g -w 1
-A -f 2 -6 -s lc -p 100 -M 64
-A -t [2001:db8::1]:443 -s wrr -p 60 --pe sip
-a -t [2001:db8::1]:443 -r [2001:db8:1::10]:443 -m -w 100
-a -t [2001:db8::1]:443 -r [2001:db8:1::9]:443 -g -w 7
-A -u [2001:db8::1]:5060 -s rr -p 60 --pe sip
-A -t [2001:db8::5]:80 -s rr -p 60 -M 1
RULES
# One service per scheduler module this kernel has.
i=0
for m in /sys/module/ip_vs_*; do
  s=${m##*/ip_vs_}
  case $s in ftp|pe_sip) continue ;; esac
  i=$((i + 1))
  echo "-A -t 10.9.0.$i:80 -s $s" >>rules
  echo "-a -t 10.9.0.$i:80 -r 10.9.1.$i:80 -m -w $i" >>rules
done
echo "schedulers: $(ls /sys/module | grep '^ip_vs_' | grep -v pe_sip | tr '\n' ' ')"

listings() { # PREFIX: vigilctl's and ipvsadm's listings in every layout
  for f in "" --stats --rate --thresholds --persistent-conn; do
    vigilctl ipvs $f >"$1.vigil$f"
    ipvsadm -Ln $f >"$1.ipvsadm$f"
    same "vigilctl ipvs $f = ipvsadm -Ln $f ($1)" "$1.ipvsadm$f" "$1.vigil$f"
  done
}

# Written by us.
if ipvs-apply <rules 2>apply.err; then ok "ipvs-apply writes every kind"; else bad "ipvs-apply writes every kind"; cat apply.err; fi
ipvsadm -Sn >ours.S
sort rules >rules.sorted
sort ours.S >ours.sorted
same "ipvsadm -Sn reads back what we wrote" rules.sorted ours.sorted
ipvs-apply --save >ours.save
same "our read-back renders as ipvsadm -Sn" ours.S ours.save
listings ours

# Re-applying the same rules as a difference writes nothing.
ipvs-apply --sync <rules 2>sync.err
contains "re-applying unchanged rules sends no write" sync.err "writes=0"

# Written by ipvsadm.
ipvsadm -C
ipvsadm -R <rules
ipvsadm -Sn >theirs.S
same "ipvsadm writes the same table as we do" ours.S theirs.S
ipvs-apply --save >theirs.save
same "we read back what ipvsadm wrote" theirs.S theirs.save
listings theirs

# Edits, thresholds, deletes, an IPv6 real server behind an IPv4 tunnel service.
cat >edits <<'RULES'
-E -t 10.0.0.1:80 -s wlc -p 100 -M 255.255.0.0
-e -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 9 -x 100 -y 10
-e -t 10.0.0.1:80 -r 10.0.1.3:80 -i -w 4 --tun-type gue --tun-port 7000 --tun-csum
-d -t 10.0.0.1:80 -r 10.0.1.2:80
-D -u 10.0.0.6:53
-a -t 10.0.0.1:80 -r [2001:db8:1::99]:80 -i -w 2
-E -t [2001:db8::1]:443 -s rr
-A -f 4294967295 -s rr
-a -f 4294967295 -r 10.1.1.2:0 -g -w 1
RULES
ipvsadm -C
ipvs-apply <rules
if ipvs-apply <edits 2>edits.err; then ok "edits applied"; else bad "edits applied"; cat edits.err; fi
ipvsadm -Sn >edited.S
contains "edit service" edited.S "-A -t 10.0.0.1:80 -s wlc -p 100 -M 255.255.0.0"
contains "edit tunnel" edited.S "-a -t 10.0.0.1:80 -r 10.0.1.3:80 -i -w 4 --tun-type gue --tun-port 7000 --tun-csum"
contains "edit removes pe" edited.S "-A -t [2001:db8::1]:443 -s rr"
if grep -q "10.0.1.2:80\|10.0.0.6:53" edited.S; then bad "deletes"; else ok "deletes"; fi
listings edited

# Timeouts.
echo "--set 100 20 30" | ipvs-apply 2>/dev/null
ipvsadm -L --timeout >t.ipvsadm
contains "timeouts set by us" t.ipvsadm "Timeout (tcp tcpfin udp): 100 20 30"
ipvsadm --set 901 121 301
ipvsadm -L --timeout >t.ipvsadm
vigilctl ipvs --timeout >t.vigil
same "timeouts read by us" t.ipvsadm t.vigil

# Sync daemons (the kernel refuses them while a service mixes address families).
ipvsadm -C
printf '%s\n' "--start-daemon master --mcast-interface lo --syncid 5" \
  "--start-daemon backup --mcast-interface lo --syncid 7 --sync-maxlen 1000 --mcast-group 224.0.0.99 --mcast-port 8000 --mcast-ttl 3" |
  ipvs-apply 2>d.err || { bad "daemons start"; cat d.err; }
ipvsadm -L --daemon >d.ipvsadm
vigilctl ipvs --daemon >d.vigil
same "sync daemons as ipvsadm lists them" d.ipvsadm d.vigil
contains "backup daemon settings" d.ipvsadm "backup sync daemon (mcast=lo, syncid=7, maxlen=1024, group=224.0.0.99, port=8000, ttl=3)"
printf '%s\n' "--stop-daemon master" "--stop-daemon backup" | ipvs-apply 2>/dev/null
ipvsadm -L --daemon >d.after
if [ -s d.after ]; then bad "daemons stop"; cat d.after; else ok "daemons stop"; fi
echo "--stop-daemon master" | ipvs-apply 2>d.err
contains "stopping a stopped daemon" d.err "stopping the master sync daemon: no such sync daemon running"

# Errors, each in a pipelined batch whose other requests still go through.
ipvs-apply <rules 2>/dev/null
printf '%s\n' "-A -t 10.0.0.1:80 -s rr" "-A -t 10.0.0.77:80 -s rr" "-A -t 10.0.0.99:80 -s nosuch" \
  "-D -t 10.0.0.98:80" "-d -t 10.0.0.1:80 -r 10.9.9.9:80" "-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 1" \
  "-e -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 1 -x 1 -y 5" "-a -t 10.0.0.77:80 -r 10.0.7.7:80 -m" >errs
if ipvs-apply <errs 2>errs.out; then bad "errors exit non-zero"; else ok "errors exit non-zero"; fi
contains "duplicate service" errs.out "adding service [10.0.0.1]:tcp:80: service already exists"
contains "missing scheduler" errs.out "adding service [10.0.0.99]:tcp:80: scheduler 'nosuch' not available (load ip_vs_nosuch)"
contains "missing service" errs.out "removing service [10.0.0.98]:tcp:80: no such service"
contains "missing destination" errs.out "removing destination 10.9.9.9:80 from [10.0.0.1]:tcp:80: no such destination"
contains "duplicate destination" errs.out "adding destination 10.0.1.1:8080 to [10.0.0.1]:tcp:80: destination already exists"
contains "thresholds out of range" errs.out "weight or threshold out of range"
ipvsadm -Sn >errs.S
contains "the rest of the batch went through" errs.S "-a -t 10.0.0.77:80 -r 10.0.7.7:80 -m -w 1"

# Counters and connections after traffic through an LVS-NAT service.
ipvsadm -C
nsx() { ns=$1; shift; $IP netns exec "$ns" "$@"; }
$IP netns add client
$IP link add c0 type veth peer name c1
$IP link set c1 netns client
$IP addr add 10.1.0.1/24 dev c0
$IP link set c0 up
nsx client $IP addr add 10.1.0.2/24 dev c1
nsx client $IP link set c1 up
nsx client $IP route add default via 10.1.0.1
for i in 1 2; do
  $IP netns add rs$i
  $IP link add r${i}a type veth peer name r${i}b
  $IP link set r${i}b netns rs$i
  $IP addr add 10.2.$i.1/24 dev r${i}a
  $IP link set r${i}a up
  nsx rs$i $IP addr add 10.2.$i.2/24 dev r${i}b
  nsx rs$i $IP link set r${i}b up
  nsx rs$i $IP route add default via 10.2.$i.1
  mkdir -p /tmp/www$i
  echo "hello from rs$i" >/tmp/www$i/index.html
  nsx rs$i busybox httpd -p 80 -h /tmp/www$i
done
echo 1 >/proc/sys/net/ipv4/ip_forward
$IP addr add 10.1.0.100/32 dev c0
printf '%s\n' "-A -t 10.1.0.100:80 -s rr" "-a -t 10.1.0.100:80 -r 10.2.1.2:80 -m -w 1" \
  "-a -t 10.1.0.100:80 -r 10.2.2.2:80 -m -w 1" | ipvs-apply 2>/dev/null
got=$(for n in 1 2 3 4; do nsx client busybox wget -q -O - http://10.1.0.100/; done | sort | uniq -c | tr -s ' ')
case $got in *"2 hello from rs1"*"2 hello from rs2"*) ok "NAT service balances" ;; *) bad "NAT service balances: $got" ;; esac
sleep 3 # the kernel folds per-CPU counters into the totals every 2 s
for try in 1 2 3; do
  ipvsadm -Ln --stats >s.ipvsadm
  vigilctl ipvs --stats >s.vigil
  cmp -s s.ipvsadm s.vigil && break
done
same "counters after traffic" s.ipvsadm s.vigil
if grep -q "10.1.0.100:80  *4 " s.vigil; then ok "four connections counted"; else bad "four connections counted"; cat s.vigil; fi
for try in 1 2 3; do
  ipvsadm -Lcn >c.ipvsadm
  vigilctl ipvs -c >c.vigil
  cmp -s c.ipvsadm c.vigil && break
done
same "connections as ipvsadm -Lcn" c.ipvsadm c.vigil
vigilctl ipvs --json >j.out && grep -q '"scheduler": "rr"' j.out && ok "json listing" || bad "json listing"
exit $fail
