# Returning the context pointer from cgroup/sock.
# type: cgroup_sock
# expect: reject "At program exit the register R0 is not a known value (ctx)" at 1 (EINVAL)
r0 = r1
exit
