# A timer callback's r3 is the map value holding the timer, which no load may read.
# kernel: needs BTF func_info and a map with BTF, which the kernel crate does not load
# func_info: yes
# type: sched_cls
# map: m=array:4:16:1
# timer: 0
# expect: reject "bpf_timer cannot be accessed directly by load/store" at 23 (EACCES)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
r2 = map_fd(0) ll
r3 = 1
call 169
r1 = r6
r2 = func(+8) ll
call 170
r1 = r6
r2 = 1000
r3 = 0
call 171
out:
r0 = 0
exit
r0 = *(u64 *)(r3 + 0)
r0 = 0
exit
