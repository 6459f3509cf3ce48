# An lddw naming a map that was not given.
# expect: reject "fd 9999 is not pointing to valid bpf_map" at 0 (EBADF)
r1 = map_fd(9999) ll
r0 = 0
exit
