# tc may delete from a sockmap (may_update_sockmap).
# type: sched_cls
# map: s=sockmap:4:4:4
# expect: accept
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 3
r0 = 0
exit
