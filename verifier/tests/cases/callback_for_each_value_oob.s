# The value a bpf_for_each_map_elem callback gets is bounded by the map's value size.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# map: m=hash:4:16:4
# expect: reject "R3 min value is outside of the allowed memory range" at 9 (EACCES)
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 164
r0 = 0
exit
r0 = *(u64 *)(r3 + 16)
r0 = 0
exit
