# The configurations of the scale benchmarks (scripts/bench-scale.sh, scripts/profile-reload.sh):
# n virtual servers x m real servers of TCP_CHECK, delay_loop `delay`, written to dir as
# scale-base.conf; scale-weight.conf, the first real server's weight 1 -> 7; and scale-add.conf,
# that plus `add` real servers, one more for each of the first `add` virtual servers (round robin
# if fewer). Real server k's address: 250 a /24, in 10.20.0.0/14.
function rs(k) { return sprintf("10.%d.%d.%d", 20 + int(k / 62500), int(k / 250) % 250, k % 250 + 1) }
function real(f, k, w) {
  printf "    real_server %s 80 {\n", rs(k) >f
  if (w) printf "        weight %d\n", w >f
  printf "        TCP_CHECK {\n        }\n    }\n" >f
}
function write(f, weight, extra,   i, j, a) {
  for (i = 0; i < n; i++) {
    printf "virtual_server 10.10.%d.%d 80 {\n    delay_loop %d\n    lvs_sched wlc\n    lvs_method NAT\n    protocol TCP\n", int(i / 250), i % 250 + 1, delay >f
    for (j = 0; j < m; j++) real(f, i * m + j, i == 0 && j == 0 ? weight : 0)
    if (extra) for (a = i; a < add; a += n) real(f, n * m + a, 0)
    print "}" >f
  }
  close(f)
}
BEGIN {
  write(dir "/scale-base.conf", 1, 0)
  write(dir "/scale-weight.conf", 7, 0)
  write(dir "/scale-add.conf", 7, 1)
}
