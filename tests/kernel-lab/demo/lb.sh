# Guest side of scripts/demo.sh, part 3: a director in a real kernel.  vigild programs an
# LVS-NAT virtual server over three real servers (busybox httpd in namespaces) with HTTP_GET
# checks; a client fetches through the VIP; one real server dies and comes back.
. /lab/bin/common.sh
nat_lab 3
cat >/tmp/lb.conf <<'CONF'
virtual_server 10.1.0.100 80 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
CONF
for i in 1 2 3; do cat >>/tmp/lb.conf <<CONF
    real_server 10.2.$i.2 80 {
        weight 1
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
CONF
done
echo "}" >>/tmp/lb.conf
step() { printf '\n== %s\n' "$*"; }
indent() { sed 's/^/  /'; }
events() { grep -E "Adding|Removing|failed after|succeed" $LOG | sed 's/^[^ ]* *INFO //; s/ vs=.*//; s/ check=.*//' | indent; }

step "vigild -C -f lb.conf: one virtual server, three real servers with HTTP_GET checks"
start_vigild /tmp/lb.conf
events
step "vigilctl ipvs (the same layout as ipvsadm -Ln)"
vigilctl ipvs | indent
step "nine requests from the client to the VIP 10.1.0.100"
fetch 9 | indent

step "real server rs2 stops: its check fails and vigild removes it"
: >$LOG
rs_stop 2
t0=$(now)
wait_for 20 sh -c "! ipvsadm -Ln -t 10.1.0.100:80 | grep -q ' 10.2.2.2:80 '"
echo "  (gone from the table $(echo "$(now) $t0" | awk '{ printf "%.1f", $1 - $2 }') s after it stopped: delay_loop 1 + retry 1 x delay_before_retry 1 + connect_timeout 1)"
events
ipvsadm -Ln | indent
step "nine requests: all answered by rs1 and rs3"
fetch 9 | indent

step "rs2 comes back: the next check succeeds and vigild adds it again"
: >$LOG
rs_start 2
wait_for 20 sh -c "ipvsadm -Ln -t 10.1.0.100:80 | grep -q ' 10.2.2.2:80 '"
events
fetch 9 | indent

step "vigild stops (SIGTERM): it removes its virtual server (with -I it would leave it for the next vigild)"
stop_vigild TERM
ipvsadm -Ln | indent
