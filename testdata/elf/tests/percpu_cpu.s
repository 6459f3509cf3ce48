# Adds the CPU number + 1 to this CPU's slot of a per-CPU array, then passes.
stw [%r10-4], 0
lddw map_idx %r1, 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +5
mov %r6, %r0
call 8
add %r0, 1
ldxdw %r1, [%r6]
add %r1, %r0
stxdw [%r6], %r1
mov %r0, 2
exit
