# bpf_loop's callback context must be on the stack (or NULL).
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "R3 type=ctx expected=fp" at 6 (EACCES)
r6 = r1
r1 = 4
r2 = func(+6) ll
r3 = r6
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
