# Count runs in an array map (map index 0) and pass the packet.
stw [%r10-4], 0
lddw map_idx %r1, 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +3
ldxdw %r1, [%r0]
add %r1, 1
stxdw [%r0], %r1
mov %r0, 2
exit
