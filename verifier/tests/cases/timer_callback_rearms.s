# A timer callback that sets itself as the timer's callback again: each entry into the
# asynchronous callback is verified afresh (async_entry_cnt), the same state seen again is not
# an infinite loop.
# kernel: needs BTF func_info and a map with BTF, which the kernel crate does not load
# func_info: yes
# type: sched_cls
# map: m=array:4:16:1
# timer: 0
# expect: accept
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
r1 = r3
r2 = func(-2) ll
call 170
r0 = 0
exit
