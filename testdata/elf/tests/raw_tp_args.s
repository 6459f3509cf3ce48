# A raw tracepoint: r0 = args[1] + args[2]; the sum is kept in map 0.
ldxdw %r6, [%r1+8]
ldxdw %r7, [%r1+16]
add %r6, %r7
stw [%r10-4], 0
stxdw [%r10-16], %r6
lddw map_idx %r1, 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
mov %r0, %r6
exit
