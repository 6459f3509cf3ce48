# A syscall program: ctx[0] = ctx[1] + 1; returns 3. The kernel gives the context back.
ldxdw %r2, [%r1+8]
add %r2, 1
stxdw [%r1], %r2
mov %r0, 3
exit
