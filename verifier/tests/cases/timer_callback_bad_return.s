# An asynchronous (timer) callback must return 0.
# kernel: needs BTF func_info and a map with BTF, which the kernel crate does not load
# func_info: yes
# type: sched_cls
# map: m=array:4:16:1
# timer: 0
# expect: reject "At async callback return the register R0 has smin=1 smax=1 should have been in [0, 0]" at 14 (EINVAL)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r1 = r0
r2 = func(+4) ll
call 170
out:
r0 = 0
exit
r0 = 1
exit
