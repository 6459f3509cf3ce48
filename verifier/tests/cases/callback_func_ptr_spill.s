# A function pointer spilled to the stack and read back is still the callback.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: accept
r2 = func(+9) ll
*(u64 *)(r10 - 8) = r2
r2 = *(u64 *)(r10 - 8)
r1 = 1
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
