# Outputs the packet's first 8 bytes to ring buffer 0, discards a reserved record, and
# prints "len %d" of the packet.
ldxw %r6, [%r1]
ldxw %r7, [%r1+4]
mov %r8, %r7
sub %r8, %r6
mov %r2, %r6
add %r2, 8
jgt %r2, %r7, +28
ldxdw %r3, [%r6]
stxdw [%r10-8], %r3
lddw map_idx %r1, 0
mov %r2, %r10
add %r2, -8
mov %r3, 8
mov %r4, 0
call 130
lddw map_idx %r1, 0
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, +3
mov %r1, %r0
mov %r2, 0
call 133
# "len %d\0" on the stack
stdw [%r10-16], 0
stw [%r10-16], 0x206e656c
stw [%r10-12], 0x6425
mov %r1, %r10
add %r1, -16
mov %r2, 7
mov %r3, %r8
call 6
mov %r0, 2
exit
mov %r0, 1
exit
