# fp + an unbounded scalar.
# expect: reject "math between fp pointer and register with unbounded min value is not allowed" at 2 (EINVAL)
call 7
r3 = r10
r3 += r0
*(u64 *)(r3 + 0) = 0
r0 = 0
exit
