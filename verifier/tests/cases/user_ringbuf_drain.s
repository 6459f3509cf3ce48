# bpf_user_ringbuf_drain: the callback gets the sample (a dynptr) and the context, and
# returns 0 or 1.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# type: kprobe
# map: u=user_ringbuf:0:0:4096
# expect: accept
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 209
r0 = 0
exit
r0 = 1
exit
