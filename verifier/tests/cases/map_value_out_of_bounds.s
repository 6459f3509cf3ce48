# An 8-byte load at offset 8 of an 8-byte value.
# map: m=hash:8:8:1
# expect: reject "R0 min value is outside of the allowed memory range" at 7 (EACCES)
*(u64 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 + 8)
r0 = 0
exit
