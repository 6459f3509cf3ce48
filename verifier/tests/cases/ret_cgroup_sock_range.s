# cgroup/sock programs return 0 or 1.
# type: cgroup_sock
# expect: reject "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]" at 1 (EINVAL)
r0 = 2
exit
