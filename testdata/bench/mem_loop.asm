# Reads and writes every 8-byte word of a 4 KiB buffer (r1), 64 times over:
# 64 * (512 * 8 + 3) + 3 = 262,339 instructions executed.
mov %r0, 0
mov %r6, 0
outer:
mov %r3, 0
inner:
mov %r4, %r1
add %r4, %r3
ldxdw %r5, [%r4]
add %r0, %r5
add %r5, 1
stxdw [%r4], %r5
add %r3, 8
jlt %r3, 4096, inner
add %r6, 1
jlt %r6, 64, outer
exit
