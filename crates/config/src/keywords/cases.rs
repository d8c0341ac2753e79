//! Every keyword of every table has an accepted and a refused example, each checked for the
//! diagnostics it gives and the line they point at.

use super::{global, lvs, vrrp, Action, Table};
use crate::{parse_str, Options, Severity};

/// `(context, keyword, ok line, bad line)`: the ok line gives no warning or error; the bad line
/// gives a diagnostic at its line (a note where keepalived silently ignores the mistake, such as
/// extra words). An empty bad line means the keyword cannot be wrong on its own.
const CASES: &[(&str, &str, &str, &str)] = &[
    ("top", "global_defs", "global_defs {\n router_id A\n}", "global_defs"),
    ("top", "net_namespace", "net_namespace lb", "net_namespace"),
    ("top", "static_ipaddress", "static_ipaddress {\n 192.0.2.7/24 dev eth0\n}", "static_ipaddress {\n 192.0.2.300\n}"),
    ("top", "static_routes", "static_routes {\n 198.51.100.0/24 via 192.0.2.254 dev eth0\n}", "static_routes {\n 198.51.100.0/24 via nowhere\n}"),
    ("top", "static_rules", "static_rules {\n from 192.0.2.0/24 table 100 preference 100\n}", "static_rules {\n from 192.0.2.0/24 table 100\n}"),
    ("top", "vrrp_script", "vrrp_script chk2 {\n script /bin/true\n}", "vrrp_script chk2 {\n interval 2\n}"),
    ("top", "vrrp_track_file", "vrrp_track_file tf2 {\n file /tmp/tf2\n}", "vrrp_track_file tf2 {\n weight 3\n}"),
    ("top", "track_file", "track_file tf3 {\n file /tmp/tf3\n}", "track_file tf3 {\n weight x\n}"),
    ("top", "vrrp_sync_group", "vrrp_sync_group G2 {\n group {\n VI_1\n VI_2\n }\n}", "vrrp_sync_group G2 {\n group {\n VI_1\n }\n}"),
    (
        "top",
        "vrrp_instance",
        "vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress {\n 192.0.2.3\n }\n}",
        "vrrp_instance VI_3 {\n interface eth0\n}",
    ),
    ("top", "virtual_server_group", "virtual_server_group G {\n 192.0.2.10-12 80\n fwmark 3\n}", "virtual_server_group G {\n 192.0.2.10-x 80\n}"),
    (
        "top",
        "virtual_server",
        "virtual_server 192.0.2.11 80 {\n protocol TCP\n lvs_sched rr\n lvs_method DR\n real_server 192.0.2.21 80 {\n }\n}",
        "virtual_server 192.0.2.311 80 {\n lvs_sched rr\n}",
    ),
    ("global_defs", "router_id", "router_id LVS_1", "router_id"),
    ("global_defs", "notification_email", "notification_email {\n a@example.org\n b@example.org\n}", "notification_email a@example.org"),
    ("global_defs", "notification_email_from", "notification_email_from lb@example.org", "notification_email_from"),
    ("global_defs", "smtp_server", "smtp_server 192.0.2.25 2525", "smtp_server 192.0.2.25 99999"),
    ("global_defs", "smtp_helo_name", "smtp_helo_name lb1", "smtp_helo_name"),
    ("global_defs", "smtp_connect_timeout", "smtp_connect_timeout 30", "smtp_connect_timeout soon"),
    ("global_defs", "smtp_alert", "smtp_alert", "smtp_alert maybe"),
    ("global_defs", "smtp_alert_vrrp", "smtp_alert_vrrp off", "smtp_alert_vrrp maybe"),
    ("global_defs", "smtp_alert_checker", "smtp_alert_checker yes", "smtp_alert_checker maybe"),
    ("global_defs", "enable_script_security", "enable_script_security", "enable_script_security maybe"),
    ("global_defs", "script_user", "script_user nobody nogroup", "script_user"),
    ("global_defs", "vrrp_version", "vrrp_version 3", "vrrp_version 4"),
    ("global_defs", "vrrp_mcast_group4", "vrrp_mcast_group4 224.0.0.18", "vrrp_mcast_group4 192.0.2.1"),
    ("global_defs", "vrrp_mcast_group6", "vrrp_mcast_group6 ff02::12", "vrrp_mcast_group6 2001:db8::1"),
    ("global_defs", "vrrp_garp_master_delay", "vrrp_garp_master_delay 10", "vrrp_garp_master_delay -1"),
    ("global_defs", "vrrp_garp_master_repeat", "vrrp_garp_master_repeat 3", "vrrp_garp_master_repeat many"),
    ("global_defs", "vrrp_garp_master_refresh", "vrrp_garp_master_refresh 60", "vrrp_garp_master_refresh x"),
    ("global_defs", "vrrp_garp_master_refresh_repeat", "vrrp_garp_master_refresh_repeat 2", "vrrp_garp_master_refresh_repeat -2"),
    ("global_defs", "vrrp_garp_interval", "vrrp_garp_interval 0.001", "vrrp_garp_interval 5"),
    ("global_defs", "vrrp_gna_interval", "vrrp_gna_interval 0.000001", "vrrp_gna_interval 2"),
    ("global_defs", "vrrp_strict", "vrrp_strict", "vrrp_strict 2"),
    ("global_defs", "nftables", "nftables kd", "nftables kd extra"),
    ("global_defs", "vrrp_skip_check_adv_addr", "vrrp_skip_check_adv_addr", "vrrp_skip_check_adv_addr 2"),
    ("global_defs", "vrrp_check_unicast_src", "vrrp_check_unicast_src", "vrrp_check_unicast_src 2"),
    ("global_defs", "lvs_timeouts", "lvs_timeouts tcp 7200 tcpfin 120 udp 300", "lvs_timeouts sctp 10"),
    ("global_defs", "lvs_sync_daemon", "lvs_sync_daemon eth0 VI_1 id 5 port 8848 ttl 1 group 224.0.0.81", "lvs_sync_daemon eth0 VI_1 id 300"),
    ("global_defs", "lvs_flush", "lvs_flush", "lvs_flush 3"),
    ("global_defs", "lvs_flush_on_stop", "lvs_flush_on_stop ALL", "lvs_flush_on_stop SOME"),
    ("global_defs", "lvs_flush_onstop", "lvs_flush_onstop VS", "lvs_flush_onstop SOME"),
    ("global_defs", "lvs_process_name", "lvs_process_name lvs", "lvs_process_name a b"),
    ("global_defs", "vrrp_rlimit_rtime", "vrrp_rlimit_rtime 10000", "vrrp_rlimit_rtime x"),
    ("global_defs", "checker_rlimit_rtime", "checker_rlimit_rtime 10000", "checker_rlimit_rtime x"),
    ("global_defs", "bfd_rlimit_rtime", "bfd_rlimit_rtime 10000", "bfd_rlimit_rtime x"),
    ("global_defs", "vrrp_priority", "vrrp_priority -5", "vrrp_priority 20"),
    ("global_defs", "vrrp_rt_priority", "vrrp_rt_priority 50", "vrrp_rt_priority high"),
    ("global_defs", "vrrp_rlimit_rttime", "vrrp_rlimit_rttime 20000", "vrrp_rlimit_rttime -1"),
    ("global_defs", "vrrp_no_swap", "vrrp_no_swap", "vrrp_no_swap yes"),
    ("global_defs", "vrrp_cpu_affinity", "vrrp_cpu_affinity 0 1", "vrrp_cpu_affinity 0 x"),
    ("global_defs", "checker_priority", "checker_priority -5", "checker_priority 20"),
    ("global_defs", "checker_rt_priority", "checker_rt_priority 50", "checker_rt_priority high"),
    ("global_defs", "checker_rlimit_rttime", "checker_rlimit_rttime 20000", "checker_rlimit_rttime -1"),
    ("global_defs", "checker_no_swap", "checker_no_swap", "checker_no_swap yes"),
    ("global_defs", "checker_cpu_affinity", "checker_cpu_affinity 0 1", "checker_cpu_affinity 0 x"),
    ("global_defs", "bfd_priority", "bfd_priority -5", "bfd_priority 20"),
    ("global_defs", "bfd_rt_priority", "bfd_rt_priority 50", "bfd_rt_priority high"),
    ("global_defs", "bfd_rlimit_rttime", "bfd_rlimit_rttime 20000", "bfd_rlimit_rttime -1"),
    ("global_defs", "bfd_no_swap", "bfd_no_swap", "bfd_no_swap yes"),
    ("global_defs", "bfd_cpu_affinity", "bfd_cpu_affinity 0 1", "bfd_cpu_affinity 0 x"),
    ("global_defs", "vrrp_garp_extra_if", "vrrp_garp_extra_if all 10", "vrrp_garp_extra_if all"),
    ("global_defs", "instance", "vrrp_strict", "instance lab"),
    ("global_defs", "max_auto_priority", "max_auto_priority 50", "max_auto_priority 100"),
    ("global_defs", "dynamic_interfaces", "dynamic_interfaces", "dynamic_interfaces a b"),
    ("global_defs", "notify_fifo", "notify_fifo /run/vigil.fifo", "notify_fifo"),
    ("global_defs", "vrrp_notify_fifo", "vrrp_notify_fifo /run/vrrp.fifo", "vrrp_notify_fifo"),
    ("global_defs", "lvs_notify_fifo", "lvs_notify_fifo /run/lvs.fifo", "lvs_notify_fifo"),
    ("global_defs", "notify_fifo_script", "notify_fifo_script /bin/true", "notify_fifo_script"),
    ("global_defs", "vrrp_notify_fifo_script", "vrrp_notify_fifo_script /bin/true", "vrrp_notify_fifo_script"),
    ("global_defs", "lvs_notify_fifo_script", "lvs_notify_fifo_script /bin/true", "lvs_notify_fifo_script"),
    ("global_defs", "default_interface", "default_interface eth1", "default_interface"),
    ("global_defs", "startup_script", "startup_script /bin/true", "startup_script"),
    ("global_defs", "startup_script_timeout", "startup_script_timeout 20", "startup_script_timeout 1001"),
    ("global_defs", "shutdown_script", "shutdown_script \"/bin/echo stopping\" root", "shutdown_script"),
    ("global_defs", "shutdown_script_timeout", "shutdown_script_timeout 1", "shutdown_script_timeout 0"),
    ("vrrp_instance", "state", "state MASTER", "state PRIMARY"),
    ("vrrp_instance", "interface", "interface eth1", "interface"),
    ("vrrp_instance", "virtual_router_id", "virtual_router_id 255", "virtual_router_id 256"),
    ("vrrp_instance", "priority", "priority 150", "priority 300"),
    ("vrrp_instance", "advert_int", "advert_int 2", "advert_int 0"),
    ("vrrp_instance", "version", "version 3", "version 1"),
    ("vrrp_instance", "nopreempt", "nopreempt", "nopreempt yes"),
    ("vrrp_instance", "preempt", "preempt", "preempt 5"),
    ("vrrp_instance", "preempt_delay", "preempt_delay 30", "preempt_delay 5000"),
    ("vrrp_instance", "authentication", "authentication {\n auth_type PASS\n auth_pass 1111\n}", "authentication {\n auth_type MD5\n}"),
    ("vrrp_instance", "virtual_ipaddress", "virtual_ipaddress {\n 192.0.2.100/24 brd 192.0.2.255 dev eth0 scope global label eth0:1 noprefixroute\n}", "virtual_ipaddress {\n 192.0.2.100/33\n}"),
    ("vrrp_instance", "virtual_ipaddress_excluded", "virtual_ipaddress_excluded {\n 198.51.100.100\n}", "virtual_ipaddress_excluded {\n 198.51.100.100 color red\n}"),
    ("vrrp_instance", "virtual_routes", "virtual_routes {\n src 192.0.2.100 to 203.0.113.0/24 via 192.0.2.254 dev eth0 table 10 metric 5\n blackhole 198.51.100.0/24\n}", "virtual_routes {\n 203.0.113.0/24 via 192.0.2.254 mood happy\n}"),
    ("vrrp_instance", "virtual_rules", "virtual_rules {\n from 192.0.2.100 table 10 priority 100\n}", "virtual_rules {\n from 192.0.2.100 colour 3\n}"),
    ("vrrp_instance", "track_interface", "track_interface {\n eth1 weight -20\n}", "track_interface {\n eth1 weight 500\n}"),
    ("vrrp_instance", "track_script", "track_script {\n chk weight 10\n}", "track_script {\n nosuchscript\n}"),
    ("vrrp_instance", "track_file", "track_file {\n tf weight 5 reverse\n}", "track_file {\n nosuchfile\n}"),
    ("vrrp_instance", "track_process", "track_process {\n tp weight 5\n}", "track_process {\n nosuchprocess\n}"),
    ("vrrp_instance", "master_down_bfd", "master_down_bfd bp", "master_down_bfd nosuchbfd"),
    ("vrrp_instance", "track_bfd", "track_bfd {\n bp weight -20 reverse\n}", "track_bfd {\n nosuchbfd\n}"),
    ("vrrp_instance", "dont_track_primary", "dont_track_primary", "dont_track_primary x"),
    ("vrrp_instance", "unicast_src_ip", "unicast_src_ip 192.0.2.1\n unicast_peer {\n 192.0.2.2\n}", "unicast_src_ip 192.0.2"),
    ("vrrp_instance", "unicast_peer", "unicast_peer {\n 192.0.2.2 min_ttl 250 max_ttl 255\n}", "unicast_peer {\n 192.0.2.2 hops 3\n}"),
    ("vrrp_instance", "unicast_ttl", "unicast_ttl 64", "unicast_ttl 0"),
    ("vrrp_instance", "mcast_src_ip", "mcast_src_ip 192.0.2.1", "mcast_src_ip eth0"),
    ("vrrp_instance", "garp_master_delay", "garp_master_delay 1", "garp_master_delay x"),
    ("vrrp_instance", "garp_master_repeat", "garp_master_repeat 2", "garp_master_repeat -1"),
    ("vrrp_instance", "garp_master_refresh", "garp_master_refresh 30", "garp_master_refresh x"),
    ("vrrp_instance", "garp_master_refresh_repeat", "garp_master_refresh_repeat 2", "garp_master_refresh_repeat x"),
    ("vrrp_instance", "smtp_alert", "smtp_alert", "smtp_alert x"),
    ("vrrp_instance", "notify_master", "notify_master \"/bin/true master\" root", "notify_master"),
    ("vrrp_instance", "notify_backup", "notify_backup /bin/true", "notify_backup"),
    ("vrrp_instance", "notify_fault", "notify_fault /bin/true", "notify_fault"),
    ("vrrp_instance", "notify_stop", "notify_stop /bin/true", "notify_stop"),
    ("vrrp_instance", "notify_deleted", "notify_deleted /bin/true", "notify_deleted\nnotify_deleted /bin/true"),
    ("vrrp_instance", "notify", "notify /bin/true", "notify \"/bin/true\" a b c"),
    ("vrrp_instance", "notify_master_rx_lower_pri", "notify_master_rx_lower_pri /bin/true", "notify_master_rx_lower_pri"),
    ("vrrp_instance", "notify_priority_changes", "notify_priority_changes", "notify_priority_changes x"),
    ("vrrp_instance", "use_vmac", "use_vmac vrrp.1", "use_vmac a b"),
    ("vrrp_instance", "vmac_xmit_base", "use_vmac vmac9\n vmac_xmit_base", "vmac_xmit_base x"),
    ("vrrp_instance6", "native_ipv6", "native_ipv6", "native_ipv6 x"),
    ("vrrp_instance", "accept", "accept", "accept x"),
    ("vrrp_instance", "no_accept", "no_accept", "no_accept x"),
    ("vrrp_instance", "skip_check_adv_addr", "skip_check_adv_addr", "skip_check_adv_addr x"),
    ("vrrp_instance", "v3_checksum_as_v2", "v3_checksum_as_v2 on", "v3_checksum_as_v2 maybe"),
    ("vrrp_instance", "old_unicast_checksum", "old_unicast_checksum never", "old_unicast_checksum always"),
    ("vrrp_instance", "strict_mode", "strict_mode on", "strict_mode x"),
    ("vrrp_instance", "check_unicast_src", "check_unicast_src", "check_unicast_src x"),
    ("vrrp_script", "script", "script \"/bin/true arg\"", "script"),
    ("vrrp_script", "interval", "interval 2", "interval x"),
    ("vrrp_script", "timeout", "timeout 1.5", "timeout x"),
    ("vrrp_script", "weight", "weight -20", "weight 300"),
    ("vrrp_script", "rise", "rise 2", "rise 0"),
    ("vrrp_script", "fall", "fall 3", "fall 0"),
    ("vrrp_script", "user", "user nobody", "user"),
    ("vrrp_script", "init_fail", "init_fail", "init_fail x"),
    ("vrrp_track_file", "file", "file /tmp/other", "file"),
    ("vrrp_track_file", "weight", "weight 10 reverse", "weight 10 backwards"),
    ("vrrp_track_file", "init_file", "init_file 0 overwrite", "init_file x"),
    ("vrrp_sync_group", "group", "group {\n VI_1\n VI_2\n}", "group {\n VI_9\n}"),
    ("vrrp_sync_group", "notify_master", "notify_master /bin/true", "notify_master"),
    ("vrrp_sync_group", "notify_backup", "notify_backup /bin/true", "notify_backup"),
    ("vrrp_sync_group", "notify_fault", "notify_fault /bin/true", "notify_fault"),
    ("vrrp_sync_group", "notify_stop", "notify_stop /bin/true", "notify_stop"),
    ("vrrp_sync_group", "notify_deleted", "notify_deleted /bin/true", "notify_deleted\nnotify_deleted /bin/true"),
    ("vrrp_sync_group", "notify", "notify /bin/true", "notify"),
    ("vrrp_sync_group", "notify_priority_changes", "notify_priority_changes", "notify_priority_changes x"),
    ("vrrp_sync_group", "smtp_alert", "smtp_alert", "smtp_alert x"),
    ("vrrp_sync_group", "sync_group_tracking_weight", "sync_group_tracking_weight", "sync_group_tracking_weight x"),
    ("vrrp_sync_group", "track_interface", "track_interface {\n eth1\n}", "track_interface {\n eth1 weight x\n}"),
    ("vrrp_sync_group", "track_script", "track_script {\n chk\n}", "track_script {\n chk weight\n}"),
    ("vrrp_sync_group", "track_file", "track_file {\n tf\n}", "track_file {\n tf weight 999\n}"),
    ("vrrp_sync_group", "track_process", "track_process {\n tp\n}", "track_process {\n nosuchprocess\n}"),
    ("vrrp_sync_group", "track_bfd", "track_bfd {\n bp\n}", "track_bfd {\n bp\n bp\n}"),
    ("virtual_server", "connect_timeout", "connect_timeout 3", "connect_timeout x"),
    ("virtual_server", "retry", "retry 3", "retry -1"),
    ("virtual_server", "delay_before_retry", "delay_before_retry 2", "delay_before_retry x"),
    ("virtual_server", "warmup", "warmup 5", "warmup x"),
    ("virtual_server", "delay_loop", "delay_loop 6", "delay_loop x"),
    ("virtual_server", "lvs_sched", "lvs_sched wrr", "lvs_sched wrrr"),
    ("virtual_server", "lb_algo", "lb_algo rr", "lb_algo roundrobin"),
    ("virtual_server", "lvs_method", "lvs_method DR", "lvs_method FULLNAT"),
    ("virtual_server", "lb_kind", "lb_kind TUN", "lb_kind dr"),
    ("virtual_server", "persistence_timeout", "persistence_timeout 50", "persistence_timeout 0"),
    ("virtual_server", "persistence_granularity", "persistence_granularity 255.255.255.0", "persistence_granularity 24x"),
    ("virtual_server", "persistence_granularity", "persistence_granularity 0", "persistence_granularity 2001:db8::"),
    ("virtual_server", "persistence_engine", "persistence_engine sip", "persistence_engine"),
    ("virtual_server", "protocol", "protocol UDP", "protocol ICMP"),
    ("virtual_server", "ops", "protocol UDP\n ops", "ops"),
    ("virtual_server", "virtualhost", "virtualhost www.example.org", "virtualhost"),
    ("virtual_server", "sorry_server", "sorry_server 192.0.2.99 80", "sorry_server 192.0.2.99 99999"),
    ("virtual_server", "sorry_server", "sorry_server 192.0.2.99", "sorry_server 192.0.2.999"),
    ("virtual_server", "sorry_server_inhibit", "sorry_server 192.0.2.99 80\n sorry_server_inhibit", "sorry_server_inhibit"),
    ("virtual_server", "persistence_timeout", "persistence_timeout 2678400", "persistence_timeout 2678401"),
    ("virtual_server", "lvs_method", "lvs_method NAT", "lvs_method NAT extra"),
    ("DNS_CHECK", "name", "name example.org.", "name a.example.org"),
    ("DNS_CHECK", "name", "name .", "name example..org"),
    ("TCP_CHECK", "bindto", "connect_ip 2001:db8::9\n bindto 2001:db8::1", "bindto 2001:db8::1"),
    ("virtual_server", "sorry_server_lvs_method", "sorry_server 192.0.2.99 80\n sorry_server_lvs_method NAT", "sorry_server_lvs_method NAT"),
    ("virtual_server", "quorum", "quorum 2", "quorum 0"),
    ("virtual_server", "hysteresis", "hysteresis 0", "hysteresis -1"),
    ("virtual_server", "quorum_up", "quorum_up \"/bin/true up\"", "quorum_up"),
    ("virtual_server", "quorum_down", "quorum_down /bin/true", "quorum_down"),
    ("virtual_server", "alpha", "alpha", "alpha x"),
    ("virtual_server", "omega", "omega", "omega x"),
    ("virtual_server", "ha_suspend", "ha_suspend", "ha_suspend x"),
    ("virtual_server", "inhibit_on_failure", "inhibit_on_failure", "inhibit_on_failure x"),
    ("virtual_server", "smtp_alert", "smtp_alert", "smtp_alert x"),
    ("virtual_server", "ip_family", "ip_family inet", "ip_family ipx"),
    ("virtual_server", "flag-1", "flag-1", "flag-1 x"),
    ("virtual_server", "flag-2", "flag-2", "flag-2 x"),
    ("virtual_server", "flag-3", "flag-3", "flag-3 x"),
    ("virtual_server", "sh-port", "lvs_sched sh\n sh-port", "sh-port"),
    ("virtual_server", "sh-fallback", "lvs_sched sh\n sh-fallback", "lvs_sched sh\n sh-fallback x"),
    ("virtual_server", "mh-port", "lvs_sched mh\n mh-port", "mh-port"),
    ("virtual_server", "mh-fallback", "lvs_sched mh\n mh-fallback", "lvs_sched mh\n mh-fallback x"),
    ("virtual_server", "hashed", "lvs_sched sh\n hashed", "hashed"),
    ("virtual_server", "weight", "weight 2", "weight 0"),
    ("virtual_server", "snmp_name", "snmp_name web", "snmp_name a b"),
    ("real_server", "snmp_name", "snmp_name rs1", "snmp_name"),
    ("virtual_server", "real_server", "real_server 192.0.2.21 8080 {\n weight 2\n}", "real_server 192.0.2.21 80800 {\n weight 2\n}"),
    ("real_server", "connect_timeout", "connect_timeout 3", "connect_timeout x"),
    ("real_server", "retry", "retry 3", "retry x"),
    ("real_server", "delay_before_retry", "delay_before_retry 3", "delay_before_retry x"),
    ("real_server", "warmup", "warmup 3", "warmup x"),
    ("real_server", "delay_loop", "delay_loop 3", "delay_loop x"),
    ("real_server", "weight", "weight 3", "weight -3"),
    ("real_server", "lvs_method", "lvs_method NAT", "lvs_method X"),
    ("real_server", "lvs_method", "lvs_method TUN type gue port 6080 csum", "lvs_method TUN type gue csum"),
    ("real_server", "lvs_method", "lvs_method TUN csum type gre", "lvs_method TUN type gre remcsum"),
    ("real_server", "lvs_method", "lvs_method TUN type ipip nocsum", "lvs_method TUN type ipip csum"),
    ("real_server", "lvs_method", "lvs_method TUN port 6080 type gue", "lvs_method TUN type vxlan"),
    ("real_server", "lvs_method", "lvs_method TUN type gre", "lvs_method TUN type"),
    ("real_server", "lvs_method", "lvs_method TUN", "lvs_method TUN port 80"),
    ("real_server", "inhibit_on_failure", "inhibit_on_failure", "inhibit_on_failure x"),
    ("real_server", "notify_up", "notify_up /bin/true", "notify_up"),
    ("real_server", "notify_down", "notify_down /bin/true", "notify_down"),
    ("real_server", "uthreshold", "uthreshold 100", "uthreshold x"),
    ("real_server", "lthreshold", "lthreshold 10", "lthreshold x"),
    ("real_server", "smtp_alert", "smtp_alert", "smtp_alert x"),
    ("real_server", "alpha", "alpha", "alpha x"),
    ("real_server", "virtualhost", "virtualhost www.example.org", "virtualhost"),
    ("real_server", "TCP_CHECK", "TCP_CHECK {\n connect_timeout 3\n}", "TCP_CHECK {\n connect_timeout x\n}"),
    ("real_server", "HTTP_GET", "HTTP_GET {\n url {\n path /\n status_code 200\n }\n}", "HTTP_GET {\n connect_timeout 3\n}"),
    ("real_server", "SSL_GET", "SSL_GET {\n url {\n path /health\n digest 9b3a0c85a887a256d6939da88aabd8cd\n }\n}", "SSL_GET {\n url {\n path /\n digest 12\n }\n}"),
    ("real_server", "MISC_CHECK", "MISC_CHECK {\n misc_path \"/bin/true x\"\n}", "MISC_CHECK {\n misc_timeout 3\n}"),
    ("real_server", "SMTP_CHECK", "SMTP_CHECK {\n helo_name lb\n}", "SMTP_CHECK {\n helo_name\n}"),
    ("real_server", "DNS_CHECK", "DNS_CHECK {\n type A\n name example.org\n}", "DNS_CHECK {\n type PTR\n}"),
    ("real_server", "UDP_CHECK", "UDP_CHECK {\n payload 0a0b\n}", "UDP_CHECK {\n payload zz\n}"),
    ("real_server", "PING_CHECK", "PING_CHECK {\n retry 2\n}", "PING_CHECK {\n retry x\n}"),
    ("real_server", "FILE_CHECK", "FILE_CHECK {\n track_file tf\n}", "FILE_CHECK {\n weight 2\n}"),
    ("real_server", "BFD_CHECK", "BFD_CHECK {\n name bp\n alpha\n}", "BFD_CHECK {\n name nosuchbfd\n}"),
    ("real_server", "BFD_CHECK", "BFD_CHECK {\n name bp\n alpha off\n}", "BFD_CHECK {\n alpha\n}"),
    ("BFD_CHECK", "name", "name bp", "name bp bp"),
    ("BFD_CHECK", "name", "name \"bp\"", "name bp\n name bp"),
    ("BFD_CHECK", "alpha", "name bp\n alpha yes", "name bp\n alpha maybe"),
    ("BFD_CHECK", "retry", "name bp", "name bp\n retry 3"),
    ("TCP_CHECK", "connect_timeout", "connect_timeout 3", "connect_timeout x"),
    ("TCP_CHECK", "retry", "retry 3", "retry x"),
    ("TCP_CHECK", "delay_before_retry", "delay_before_retry 3", "delay_before_retry x"),
    ("TCP_CHECK", "warmup", "warmup 3", "warmup x"),
    ("TCP_CHECK", "delay_loop", "delay_loop 3", "delay_loop x"),
    ("TCP_CHECK", "connect_ip", "connect_ip 192.0.2.30", "connect_ip 192.0.2.300"),
    ("TCP_CHECK", "connect_port", "connect_port 8080", "connect_port 70000"),
    ("TCP_CHECK", "bindto", "bindto 192.0.2.1", "bindto here"),
    ("TCP_CHECK", "bind_port", "bind_port 1024", "bind_port x"),
    ("TCP_CHECK", "bind_if", "bind_if eth0", "bind_if"),
    ("TCP_CHECK", "bind_if", "bind_if abcdefghijklmno", "bind_if abcdefghijklmnop"),
    ("TCP_CHECK", "fwmark", "fwmark 7", "fwmark x"),
    ("TCP_CHECK", "log_all_failures", "log_all_failures", "log_all_failures x"),
    ("TCP_CHECK", "alpha", "alpha", "alpha x"),
    ("TCP_CHECK", "connect_port", "connect_port 1", "connect_port 0"),
    ("TCP_CHECK", "retry", "retry 0", "retry -0"),
    ("real_server", "retry", "retry 1", "retry 0"),
    ("virtual_server", "retry", "retry +2", "retry \"\""),
    ("real_server", "smtp_alert", "smtp_alert yes", "smtp_alert YES"),
    ("HTTP_GET", "http_protocol", "http_protocol 1.0c", "http_protocol 2.0"),
    ("MISC_CHECK", "misc_timeout", "misc_timeout 4294", "misc_timeout 1.5"),
    ("MISC_CHECK", "misc_timeout", "misc_timeout +3", "misc_timeout 4295"),
    ("TCP_CHECK", "connect_timeout", "connect_timeout 4294.967295", "connect_timeout 0"),
    ("TCP_CHECK", "connect_timeout", "connect_timeout 0.000001", "connect_timeout 4295"),
    ("TCP_CHECK", "delay_loop", "delay_loop 100000", "delay_loop 1.1234567"),
    ("TCP_CHECK", "delay_loop", "delay_loop .5", "delay_loop 1e3"),
    ("TCP_CHECK", "delay_before_retry", "delay_before_retry \"\"", "delay_before_retry -0"),
    ("TCP_CHECK", "warmup", "warmup 2147483648", "warmup 1.2.3"),
    ("SMTP_CHECK", "host", "host {\n connect_ip 192.0.2.31\n connect_port 25\n}", "host {\n connect_port 70000\n}"),
    ("TCP_CHECK", "host", "", "host {\n connect_port 25\n}"),
    ("host", "connect_ip", "connect_ip 192.0.2.32", "connect_ip 192.0.2.320"),
    ("host", "connect_port", "connect_port 2525", "connect_port x"),
    ("host", "bindto", "bindto 192.0.2.1", "bindto here"),
    ("host", "bind_port", "bind_port 1025", "bind_port x"),
    ("host", "bind_if", "bind_if eth0", "bind_if"),
    ("host", "fwmark", "fwmark 3", "fwmark x"),
    ("host", "log_all_failures", "log_all_failures", "log_all_failures x"),
    ("host", "alpha", "alpha", "alpha x"),
    ("host", "connect_timeout", "connect_timeout 3", "connect_timeout x"),
    ("host", "retry", "retry 2", "retry x"),
    ("host", "delay_before_retry", "delay_before_retry 2", "delay_before_retry x"),
    ("host", "warmup", "warmup 2", "warmup x"),
    ("host", "delay_loop", "delay_loop 2", "delay_loop x"),
    ("host", "helo_name", "", "helo_name lb"),
    ("url", "path", "path /b", "path"),
    ("url", "digest", "digest 9b3a0c85a887a256d6939da88aabd8cd", "digest 12"),
    ("url", "status_code", "status_code 200-299 301", "status_code 700"),
    ("url", "regex", "regex \"ok\"", ""),
    ("url", "regex_no_match", "regex_no_match", "regex_no_match x"),
    ("url", "virtualhost", "virtualhost a.example.org", "virtualhost"),
    ("url", "regex_options", "regex_options caseless", ""),
    ("authentication", "auth_type", "auth_type AH\n auth_pass 1", "auth_type MD5\n auth_pass 1"),
    ("authentication", "auth_pass", "auth_type PASS\n auth_pass 1234", "auth_pass 123456789"),
    ("top", "vrrp_track_process", "vrrp_track_process p8 {\n process /usr/sbin/sshd -D\n}", "vrrp_track_process p8 {\n param_match\n}"),
    ("vrrp_track_process", "process", "", "process /usr/sbin/other"),
    ("vrrp_track_process", "param_match", "param_match initial", "param_match exactly"),
    ("vrrp_track_process", "full_command", "full_command", "full_command yes"),
    ("vrrp_track_process", "weight", "weight -10 reverse", "weight 300"),
    ("vrrp_track_process", "weight", "weight 10", "weight 10 backwards"),
    ("vrrp_track_process", "quorum", "quorum 2", "quorum 0"),
    ("vrrp_track_process", "quorum", "quorum_max 3\n quorum 2", "quorum_max 3\n quorum 4"),
    ("vrrp_track_process", "quorum_max", "quorum_max 0", "quorum 3\n quorum_max 2"),
    ("vrrp_track_process", "delay", "delay 1.5", "delay 0"),
    ("vrrp_track_process", "terminate_delay", "terminate_delay 2", "terminate_delay 3601"),
    ("vrrp_track_process", "fork_delay", "fork_delay 0.000001", "fork_delay 0.0000001"),
    ("top", "garp_group", "garp_group {\n gna_interval 0.01\n interface eth0\n}", "garp_group {\n interface eth0\n}"),
    ("garp_group", "garp_interval", "garp_interval 0.002", "garp_interval x"),
    ("garp_group", "gna_interval", "gna_interval 0.002", "gna_interval -1"),
    ("garp_group", "interface", "interface eth1", "interface"),
    ("garp_group", "interfaces", "interfaces {\n eth0\n eth1\n}", "interfaces {\n}"),
    ("top", "track_group", "track_group tg2 {\n group {\n VI_1\n }\n}", "track_group tg2 {\n grp {\n VI_1\n }\n}"),
    ("top", "bfd_instance", "bfd_instance b8 {\n neighbor_ip 192.0.2.2\n}", "bfd_instance b8 {\n neighbor_ip 192.0.2\n}"),
    ("bfd_instance", "source_ip", "source_ip 192.0.2.1", "source_ip here"),
    ("bfd_instance", "neighbor_ip", "neighbor_ip 192.0.2.5", "neighbor_ip 2001:db8::300::1"),
    ("bfd_instance", "neighbour_ip", "neighbour_ip 192.0.2.3", "neighbour_ip 192.0.2.300"),
    ("bfd_instance", "min_rx", "min_rx 10.5", "min_rx 0.5"),
    ("bfd_instance", "min_tx", "min_tx 10", "min_tx 1.2345"),
    ("bfd_instance", "idle_tx", "idle_tx 1000", "idle_tx 999"),
    ("bfd_instance", "multiplier", "multiplier 3", "multiplier 0"),
    ("bfd_instance", "passive", "passive", "passive x"),
    ("bfd_instance", "ttl", "ttl 255", "ttl 256"),
    ("bfd_instance", "hoplimit", "hoplimit 64", "hoplimit 0"),
    ("bfd_instance", "max_hops", "max_hops -1", "max_hops -2"),
    ("bfd_instance", "weight", "weight -20 reverse", "weight 254"),
    ("bfd_instance", "vrrp", "vrrp", "vrrp x"),
    ("bfd_instance", "checker", "checker", "checker x"),
    ("top", "SSL", "SSL {\n ca /etc/ssl/ca.pem\n}", "SSL {\n ca\n}"),
    ("SSL", "password", "password secret", "password"),
    ("SSL", "ca", "ca /etc/ssl/ca.pem", "ca /a\n ca /b"),
    ("SSL", "certificate", "certificate /etc/ssl/c.pem", "certificate /a\n certificate /b"),
    ("SSL", "key", "key /etc/ssl/k.pem", "key a b"),
    ("top", "interface_up_down_delays", "interface_up_down_delays {\n eth0 1 2\n eth1 0.5\n}", "interface_up_down_delays {\n eth0 300\n}"),
    ("top", "child_wait_time", "child_wait_time 5", "child_wait_time x"),
    ("HTTP_GET", "url", "url {\n path /a\n status_code 200-299 301\n regex \"ok\"\n virtualhost a.example.org\n}", "url {\n status_code 200\n}"),
    ("HTTP_GET", "virtualhost", "virtualhost www.example.org", "virtualhost"),
    ("HTTP_GET", "http_protocol", "http_protocol 1.1", "http_protocol"),
    ("HTTP_GET", "enable_sni", "enable_sni", "enable_sni x"),
    ("HTTP_GET", "fast_recovery", "fast_recovery", "fast_recovery x"),
    ("MISC_CHECK", "misc_path", "misc_path \"/bin/true a b\"", "misc_path"),
    ("MISC_CHECK", "misc_timeout", "misc_timeout 5", "misc_timeout x"),
    ("MISC_CHECK", "misc_dynamic", "misc_dynamic", "misc_dynamic x"),
    ("MISC_CHECK", "user", "user nobody", "user"),
    ("SMTP_CHECK", "helo_name", "helo_name lb", "helo_name"),
    ("DNS_CHECK", "type", "type AAAA", "type ANY"),
    ("DNS_CHECK", "name", "name example.org", "name"),
    ("UDP_CHECK", "payload", "payload 01020304", "payload 0x0102"),
    ("UDP_CHECK", "require_reply", "require_reply 0102", "require_reply xy"),
    ("UDP_CHECK", "min_reply_length", "min_reply_length 2", "min_reply_length x"),
    ("UDP_CHECK", "max_reply_length", "max_reply_length 200", "max_reply_length x"),
    ("FILE_CHECK", "track_file", "track_file tf", "track_file"),
    ("FILE_CHECK", "weight", "weight 2 reverse", "weight x"),
    ("FILE_CHECK", "weight", "weight 2147483647", "weight 10 rev"),
];

/// Keywords keepalived 2.2 removed or deprecated: `(context, keyword, line)`; each warns.
const REMOVED: &[(&str, &str, &str)] = &[
    ("virtual_server", "nb_get_retry", "nb_get_retry 3"),
    ("real_server", "nb_get_retry", "nb_get_retry 3"),
    ("TCP_CHECK", "nb_get_retry", "nb_get_retry 3"),
    ("virtual_server", "nat_mask", "nat_mask 255.255.255.0"),
    ("vrrp_instance", "lvs_sync_daemon_interface", "lvs_sync_daemon_interface eth0"),
    ("vrrp_instance", "linkbeat_use_polling", "linkbeat_use_polling"),
    ("vrrp_sync_group", "global_tracking", "global_tracking"),
    ("global_defs", "lvs_id", "lvs_id LVS_1"),
    ("global_defs", "lvs_sync_daemon_interface", "lvs_sync_daemon_interface eth0"),
    ("global_defs", "vrrp_unicast_bind", "vrrp_unicast_bind 192.0.2.1"),
    ("global_defs", "vrrp_unicast_peer", "vrrp_unicast_peer 192.0.2.2"),
    ("global_defs", "vrrp_vmac_garp_intvl", "vrrp_vmac_garp_intvl 10"),
    ("vrrp_instance", "vmac_garp_intvl", "vmac_garp_intvl 10"),
    ("host", "nb_get_retry", "nb_get_retry 3"),
    ("FILE_CHECK", "dynamic", "dynamic"),
];

/// The text around a case's line, and the 1-based line where the case's line starts.
fn wrap(ctx: &str, line: &str) -> (String, u32) {
    let prelude = "global_defs {\n enable_script_security\n}\n\
        vrrp_script chk {\n script /bin/true\n}\n\
        vrrp_track_file tf {\n file /tmp/tf\n}\n\
        vrrp_track_process tp {\n process sshd\n}\n\
        bfd_instance bp {\n neighbor_ip 192.0.2.4\n}\n\
        vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.10\n }\n}\n\
        vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n 192.0.2.11\n }\n}\n";
    let vs = "virtual_server 192.0.2.10 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n";
    let (open, close) = match ctx {
        "top" => (String::new(), String::new()),
        "global_defs" => ("global_defs {\n".into(), "}\n".into()),
        "vrrp_instance" => (
            "vrrp_instance VI_9 {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n 192.0.2.19\n }\n"
                .into(),
            "}\n".into(),
        ),
        "vrrp_instance6" => (
            "vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 6\n virtual_ipaddress {\n 2001:db8::6\n }\n"
                .into(),
            "}\n".into(),
        ),
        "vrrp_script" => ("vrrp_script s9 {\n script /bin/true\n".into(), "}\n".into()),
        "vrrp_track_file" => ("vrrp_track_file t9 {\n file /tmp/t9\n".into(), "}\n".into()),
        "vrrp_sync_group" => ("vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n".into(), "}\n".into()),
        "authentication" => (
            "vrrp_instance VI_8 {\n interface eth0\n virtual_router_id 8\n virtual_ipaddress {\n 192.0.2.18\n }\n authentication {\n"
                .into(),
            "}\n}\n".into(),
        ),
        "vrrp_track_process" => ("vrrp_track_process p9 {\n process /usr/sbin/sshd\n".into(), "}\n".into()),
        "garp_group" => ("garp_group {\n gna_interval 0.001\n".into(), "}\n".into()),
        "bfd_instance" => ("bfd_instance b9 {\n neighbor_ip 192.0.2.2\n".into(), "}\n".into()),
        "SSL" => ("SSL {\n".into(), "}\n".into()),
        "url" => (format!("{vs} real_server 192.0.2.20 80 {{\n HTTP_GET {{\n url {{\n path /\n"), "}\n}\n}\n}\n".into()),
        "host" => (format!("{vs} real_server 192.0.2.20 80 {{\n SMTP_CHECK {{\n host {{\n"), "}\n}\n}\n}\n".into()),
        "virtual_server" => (format!("{vs} real_server 192.0.2.20 80 {{\n weight 5\n }}\n"), "}\n".into()),
        "real_server" => (format!("{vs} real_server 192.0.2.20 80 {{\n"), "}\n}\n".into()),
        checker => {
            let body = match checker {
                "HTTP_GET" => " url {\n path /\n }\n",
                "MISC_CHECK" => " misc_path /bin/true\n",
                "FILE_CHECK" => " track_file tf\n",
                _ => "",
            };
            (format!("{vs} real_server 192.0.2.20 80 {{\n {checker} {{\n{body}"), "}\n}\n}\n".into())
        }
    };
    let text = format!("{prelude}{open}{line}\n{close}");
    let first = prelude.lines().count() + open.lines().count() + 1;
    (text, u32::try_from(first).expect("small test text"))
}

#[test]
fn accepted_examples_give_no_warning() {
    for (ctx, kw, ok, _) in CASES {
        let (text, _) = wrap(ctx, ok);
        let parsed = parse_str("case.conf", &text, &Options::default(), None);
        let bad: Vec<String> =
            parsed.diagnostics.iter().filter(|d| d.severity >= Severity::Warning).map(|d| d.to_string()).collect();
        assert!(bad.is_empty(), "{ctx} {kw}: ok example gave {bad:#?}\n{text}");
    }
}

#[test]
fn refused_examples_point_at_their_line() {
    for (ctx, kw, _, bad) in CASES {
        if bad.is_empty() {
            continue;
        }
        let (text, first) = wrap(ctx, bad);
        let last = first + u32::try_from(bad.lines().count()).expect("small") - 1;
        let parsed = parse_str("case.conf", &text, &Options::default(), None);
        let hit = parsed.diagnostics.iter().any(|d| (first..=last).contains(&d.span.line));
        assert!(
            hit,
            "{ctx} {kw}: bad example '{bad}' gave no diagnostic at lines {first}..={last}: {:#?}",
            parsed.diagnostics
        );
    }
}

#[test]
fn removed_keywords_warn_with_advice() {
    for (ctx, kw, line) in REMOVED {
        let (text, first) = wrap(ctx, line);
        let parsed = parse_str("case.conf", &text, &Options::default(), None);
        let hit = parsed.diagnostics.iter().any(|d| {
            d.code == "removed-keyword"
                && d.severity == Severity::Warning
                && d.span.line == first
                && d.message.contains(kw)
        });
        assert!(hit, "{ctx} {kw}: no removed-keyword warning: {:#?}", parsed.diagnostics);
    }
}

fn covered<T>(table: &'static Table<T>, contexts: &[&str]) {
    for kw in table.rows {
        if matches!(kw.action, Action::Ignored(_)) {
            continue;
        }
        let removed = matches!(kw.action, Action::Removed { .. });
        assert!(
            if removed {
                REMOVED.iter().any(|(c, k, _)| contexts.contains(c) && *k == kw.name)
            } else {
                CASES.iter().any(|(c, k, _, _)| contexts.contains(c) && *k == kw.name)
            },
            "keyword '{}' of {contexts:?} has no test case",
            kw.name
        );
    }
}

#[test]
fn every_keyword_has_cases() {
    covered(&global::TOP, &["top"]);
    covered(&global::GLOBAL, &["global_defs"]);
    covered(&vrrp::INSTANCE, &["vrrp_instance", "vrrp_instance6"]);
    covered(&vrrp::SCRIPT, &["vrrp_script"]);
    covered(&vrrp::TRACK_FILE, &["vrrp_track_file"]);
    covered(&vrrp::SYNC_GROUP, &["vrrp_sync_group"]);
    covered(&vrrp::AUTHENTICATION, &["authentication"]);
    covered(&global::BFD_INSTANCE, &["bfd_instance"]);
    covered(&lvs::URL, &["url"]);
    covered(&lvs::SMTP_HOST, &["host"]);
    covered(&lvs::SSL, &["SSL"]);
    covered(&lvs::VIRTUAL_SERVER, &["virtual_server"]);
    covered(&lvs::REAL_SERVER, &["real_server"]);
    covered(
        &lvs::CHECKER,
        &["TCP_CHECK", "HTTP_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "FILE_CHECK", "BFD_CHECK"],
    );
}
