# bpf_timer_init on a map created without BTF: the kernel cannot know where a timer is.
# type: sched_cls
# map: m=array:4:16:1
# expect: reject "map 'm' has to have BTF in order to use bpf_timer" at 11 (EINVAL)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r1 = r0
r2 = map_fd(0) ll
r3 = 1
call 169
out:
r0 = 0
exit
