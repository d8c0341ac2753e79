# Every kind of service and destination a keepalived.conf can ask for, written by vigild:
# ipvsadm reads back exactly the rules the configuration means, `vigilctl ipvs` prints what
# `ipvsadm -Ln` prints, and a second vigild over the same table writes nothing.
. /lab/bin/common.sh
cat >/tmp/k.conf <<CONF
virtual_server_group G {
    10.4.0.10 80
    10.4.0.11 80
    fwmark 9
}
virtual_server 10.4.0.1 80 {
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    real_server 10.4.1.1 8080 {
        weight 2
    }
    real_server 10.4.1.2 80 {
        weight 0
    }
}
virtual_server 10.4.0.1 53 {
    lvs_sched rr
    lvs_method DR
    protocol UDP
    ops
    real_server 10.4.1.2 53 {
    }
}
virtual_server 10.4.0.1 3868 {
    lvs_sched lc
    lvs_method TUN
    protocol SCTP
    real_server 10.4.1.3 3868 {
    }
}
virtual_server fwmark 7 {
    lvs_sched sh
    sh-port
    sh-fallback
    lvs_method DR
    persistence_timeout 60
    real_server 10.4.1.4 0 {
    }
}
virtual_server 10.4.0.2 0 {
    lvs_sched lblc
    lvs_method DR
    protocol TCP
    persistence_timeout
    persistence_granularity 255.255.0.0
    real_server 10.4.1.5 0 {
    }
}
virtual_server 2001:db8::1 443 {
    lvs_sched mh
    mh-port
    lvs_method NAT
    protocol TCP
    persistence_timeout 30
    persistence_granularity 64
    real_server 2001:db8::10 443 {
        weight 5
        uthreshold 50
        lthreshold 5
    }
    real_server 2001:db8::11 8443 {
    }
}
virtual_server 10.4.0.3 5060 {
    lvs_sched rr
    lvs_method NAT
    protocol UDP
    persistence_timeout 60
    persistence_engine sip
    real_server 10.4.1.6 5060 {
    }
}
virtual_server group G {
    lvs_sched nq
    lvs_method DR
    protocol TCP
    real_server 10.4.1.7 80 {
        weight 4
    }
}
virtual_server 10.4.0.4 25 {
    lvs_sched sed
    lvs_method TUN
    protocol TCP
    real_server 10.4.1.8 25 {
    }
    real_server 10.4.1.10 25 {
        lvs_method TUN type gue port 6080 csum
    }
    real_server 10.4.1.11 25 {
        lvs_method TUN csum type gre
    }
}
virtual_server 10.4.0.4 110 {
    lvs_sched dh
    lvs_method NAT
    protocol TCP
    real_server 10.4.1.9 110 {
    }
}
virtual_server 10.4.0.4 143 {
    lvs_sched lblcr
    lvs_method NAT
    protocol TCP
    real_server 10.4.1.9 143 {
    }
}
virtual_server 10.4.0.4 993 {
    lvs_sched fo
    lvs_method NAT
    protocol TCP
    real_server 10.4.1.9 993 {
    }
}
virtual_server 10.4.0.4 995 {
    lvs_sched ovf
    lvs_method NAT
    protocol TCP
    real_server 10.4.1.9 995 {
    }
}
CONF
start_vigild /tmp/k.conf
expect_rules \
  "-A --sctp-service 10.4.0.1:3868 -s lc" \
  "-A -f 7 -s sh -p 60 -b sh-fallback,sh-port" \
  "-A -f 9 -s nq" \
  "-A -t 10.4.0.10:80 -s nq" \
  "-A -t 10.4.0.11:80 -s nq" \
  "-A -t 10.4.0.1:80 -s wlc" \
  "-A -t 10.4.0.2:0 -s lblc -p 360 -M 255.255.0.0" \
  "-A -t 10.4.0.4:110 -s dh" \
  "-A -t 10.4.0.4:143 -s lblcr" \
  "-A -t 10.4.0.4:25 -s sed" \
  "-A -t 10.4.0.4:993 -s fo" \
  "-A -t 10.4.0.4:995 -s ovf" \
  "-A -t [2001:db8::1]:443 -s mh -p 30 -M 64 -b mh-port" \
  "-A -u 10.4.0.1:53 -s rr -o" \
  "-A -u 10.4.0.3:5060 -s rr -p 60 --pe sip" \
  "-a --sctp-service 10.4.0.1:3868 -r 10.4.1.3:3868 -i -w 1 --tun-type ipip" \
  "-a -f 7 -r 10.4.1.4:0 -g -w 1" \
  "-a -f 9 -r 10.4.1.7:80 -g -w 4" \
  "-a -t 10.4.0.10:80 -r 10.4.1.7:80 -g -w 4" \
  "-a -t 10.4.0.11:80 -r 10.4.1.7:80 -g -w 4" \
  "-a -t 10.4.0.1:80 -r 10.4.1.1:8080 -m -w 2" \
  "-a -t 10.4.0.1:80 -r 10.4.1.2:80 -m -w 0" \
  "-a -t 10.4.0.2:0 -r 10.4.1.5:0 -g -w 1" \
  "-a -t 10.4.0.4:110 -r 10.4.1.9:110 -m -w 1" \
  "-a -t 10.4.0.4:143 -r 10.4.1.9:143 -m -w 1" \
  "-a -t 10.4.0.4:25 -r 10.4.1.8:25 -i -w 1 --tun-type ipip" \
  "-a -t 10.4.0.4:25 -r 10.4.1.10:25 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum" \
  "-a -t 10.4.0.4:25 -r 10.4.1.11:25 -i -w 1 --tun-type gre --tun-csum" \
  "-a -t 10.4.0.4:993 -r 10.4.1.9:993 -m -w 1" \
  "-a -t 10.4.0.4:995 -r 10.4.1.9:995 -m -w 1" \
  "-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 5" \
  "-a -t [2001:db8::1]:443 -r [2001:db8::11]:8443 -m -w 1" \
  "-a -u 10.4.0.1:53 -r 10.4.1.2:53 -g -w 1" \
  "-a -u 10.4.0.3:5060 -r 10.4.1.6:5060 -m -w 1"
# What ipvsadm -Sn leaves out: thresholds and the IPv6 persistence prefix.
ipvsadm -Ln --thresholds | grep "\[2001:db8::10\]:443" | grep -q " 50 *5 " || fail "thresholds 50/5 not set on [2001:db8::10]:443"
ipvsadm -Ln | grep "\[2001:db8::1\]:443" | grep -q "mask 64" || fail "no persistence prefix 64 on [2001:db8::1]:443"
for opts in "" "--stats" "--rate" "--thresholds" "--persistent-conn"; do
  ipvsadm -Ln $opts >/tmp/ipvsadm.out
  vigilctl ipvs $opts >/tmp/vigilctl.out || fail "vigilctl ipvs $opts failed"
  diff /tmp/ipvsadm.out /tmp/vigilctl.out || fail "vigilctl ipvs $opts differs from ipvsadm -Ln $opts"
done
# SIGTERM removes them; a vigild started over a table a previous one left (-I) adopts it all.
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "vigild left its services after SIGTERM"
start_vigild /tmp/k.conf -I
stop_vigild TERM
start_vigild /tmp/k.conf
grep "IPVS: table in step" $LOG | tail -n 1 | grep -q "writes=0" || fail "vigild rewrote a table it had written itself"
stop_vigild TERM
echo "kinds: ok"
