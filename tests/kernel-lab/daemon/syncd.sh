# lvs_sync_daemon: the kernel's connection sync daemon follows the VRRP instance it names,
# backup while the instance is BACKUP, master once it is MASTER, none after vigild stops;
# without `id` the sync id is the instance's virtual_router_id, as keepalived has it.
. /lab/bin/common.sh
$IP link add d0 type veth peer name d1
$IP addr add 192.0.2.1/24 dev d0
$IP link set d0 up; $IP link set d1 up
daemons() { ipvsadm -L --daemon; }
has_daemon() { daemons | grep -q "^$1 sync daemon (mcast=d0, syncid=$2[,)]"; }
run_vrrp() { # SYNC_OPTIONS SYNCID
  cat >/tmp/s.conf <<CONF
global_defs {
    router_id lab
    lvs_sync_daemon d0 VI_1 $1
}
vrrp_instance VI_1 {
    state BACKUP
    interface d0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
CONF
  : >$LOG
  vigild -f /tmp/s.conf -n -l -P >>$LOG 2>&1 &
  VPID=$!
  wait_for 5 has_daemon backup "$2" || fail "no backup sync daemon while BACKUP: $(daemons)"
  has_daemon master "$2" && fail "a master sync daemon while BACKUP"
  wait_for 10 log_has "(VI_1) Entering MASTER STATE" || fail "VI_1 did not become MASTER"
  wait_for 5 has_daemon master "$2" || fail "no master sync daemon once MASTER: $(daemons)"
  has_daemon backup "$2" && fail "the backup sync daemon stayed once MASTER"
  log_has "IPVS: starting the master sync daemon on d0, syncid $2" || fail "no log line for the master sync daemon"
  stop_vigild TERM
  [ -z "$(daemons)" ] || fail "sync daemons left after stop: $(daemons)"
}
run_vrrp "id 7" 7
run_vrrp "" 51
echo "syncd: ok"
