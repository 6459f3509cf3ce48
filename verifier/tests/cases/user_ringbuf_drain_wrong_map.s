# bpf_user_ringbuf_drain takes only a user ring buffer.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# type: kprobe
# map: r=ringbuf:0:0:4096
# expect: reject "cannot pass map_type 27 into func bpf_user_ringbuf_drain#209" at 6 (EINVAL)
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 209
r0 = 0
exit
r0 = 0
exit
