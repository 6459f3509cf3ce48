# Only socket filters and cgroup/skb load without CAP_BPF.
# type: xdp
# privileged: no
# expect: reject "loading xdp programs needs CAP_BPF" at 0 (EPERM)
r0 = 0
exit
