# A store above the frame pointer.
# expect: reject "invalid write to stack R10 off=8 size=8" at 0 (EACCES)
*(u64 *)(r10 + 8) = 0
r0 = 0
exit
