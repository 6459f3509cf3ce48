# A store below the 512-byte frame.
# expect: reject "invalid write to stack R10 off=-520 size=8" at 0 (EACCES)
*(u64 *)(r10 - 520) = 0
r0 = 0
exit
