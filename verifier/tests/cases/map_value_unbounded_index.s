# A map value pointer plus an unbounded scalar.
# map: m=hash:8:8:1
# expect: reject "math between map_value pointer and register with unbounded min value is not allowed" at 9 (EINVAL)
*(u64 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
if r0 == 0 goto +4
r6 = r0
call 7
r6 += r0
r0 = *(u8 *)(r6 + 0)
r0 = 0
exit
