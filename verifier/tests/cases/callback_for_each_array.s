# bpf_for_each_map_elem over an array: the callback gets the map, a key and a value of that
# map and the context; it reads the whole value.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# map: m=array:4:16:4
# expect: accept
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 164
r0 = 0
exit
r0 = *(u64 *)(r3 + 8)
r0 = *(u32 *)(r2 + 0)
r0 = 0
exit
