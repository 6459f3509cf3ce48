# A misaligned 8-byte stack store.
# expect: reject "misaligned stack access off 0+0+-4 size 8" at 1 (EACCES)
r1 = 0
*(u64 *)(r10 - 4) = r1
r0 = 0
exit
