# The sample a bpf_user_ringbuf_drain callback gets is a dynptr: only dynptr helpers read
# it, a load may not.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# type: kprobe
# map: u=user_ringbuf:0:0:4096
# expect: reject "R1 invalid mem access 'dynptr_ptr'" at 9 (EACCES)
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 209
r0 = 0
exit
r0 = *(u64 *)(r1 + 0)
r0 = 0
exit
