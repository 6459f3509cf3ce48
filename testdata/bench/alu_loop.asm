# Tight ALU loop: 2,000,000 iterations of 5 instructions, 10,000,003 executed in all.
mov %r0, 0
mov %r1, 0
loop:
add %r0, %r1
xor %r0, 0x5a5a
lsh %r0, 1
add %r1, 1
jlt %r1, 2000000, loop
exit
