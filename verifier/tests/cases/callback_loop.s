# bpf_loop: the callback gets the index in r1 and the context pointer in r2; it reads the
# counter through r2 and returns 0.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: accept
*(u64 *)(r10 - 8) = 0
r1 = 4
r2 = func(+8) ll
r3 = r10
r3 += -8
r4 = 0
call 181
r0 = *(u64 *)(r10 - 8)
r0 = 0
exit
r3 = *(u64 *)(r2 + 0)
r3 += r1
*(u64 *)(r2 + 0) = r3
r0 = 0
exit
