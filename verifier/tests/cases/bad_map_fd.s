# An lddw naming a map that was not given.
# kernel: the map index is out of range on purpose, and the kernel crate refuses to patch it to an fd
# expect: reject "fd 9999 is not pointing to valid bpf_map" at 0 (EBADF)
r1 = map_fd(9999) ll
r0 = 0
exit
