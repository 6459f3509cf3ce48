# r1 = r0 + 4; a bound on r0 bounds r1 too, so fp - 16 + r1 stays in the frame.
# expect: accept
call 7
r1 = r0
r1 += 4
if r0 > 8 goto +4
r2 = r10
r2 += -16
r2 += r1
*(u8 *)(r2 + 0) = 0
r0 = 0
exit
