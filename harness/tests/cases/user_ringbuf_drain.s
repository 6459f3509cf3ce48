# Drains the user ring buffer `input` (map 0): the callback adds each record's first u32
# (bpf_dynptr_read) to a sum on the caller's stack and stops after a record whose first
# u32 is 0xffff. Returns records drained * 1000 + sum.
stdw [%r10-8], 0
lddw map_idx %r1, 0
lddw func %r2, 9
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 209
mul %r0, 1000
ldxdw %r1, [%r10-8]
add %r0, %r1
exit
# The callback (slot 13): r1 = the record's dynptr, r2 = &sum.
mov %r6, %r2
mov %r3, %r1
mov %r1, %r10
add %r1, -8
mov %r2, 4
mov %r4, 0
mov %r5, 0
call 201
mov %r0, 0
ldxw %r1, [%r10-8]
jne %r1, 0xffff, +2
mov %r0, 1
ja +3
ldxdw %r2, [%r6]
add %r2, %r1
stxdw [%r6], %r2
exit
