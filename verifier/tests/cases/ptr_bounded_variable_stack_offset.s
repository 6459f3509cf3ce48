# fp - 32 + (prandom & 0x18) stays inside the frame: a bounded, aligned variable offset.
# expect: accept
call 7
r0 &= 24
r3 = r10
r3 += -32
r3 += r0
*(u64 *)(r3 + 0) = 0
r0 = 0
exit
