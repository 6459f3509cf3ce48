# The timer argument must point at the value's bpf_timer.
# kernel: needs a map with BTF, which the kernel crate does not create
# type: sched_cls
# map: m=array:4:24:1
# timer: 8
# expect: reject "off 0 doesn't point to 'struct bpf_timer' that is at 8" at 11 (EINVAL)
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
