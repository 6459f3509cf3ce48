# Two frames of 512 bytes each.
# expect: reject "combined stack size of 2 calls is 1024. Too large" at 3 (EACCES)
*(u64 *)(r10 - 512) = 0
call pc+2
r0 = 0
exit
*(u64 *)(r10 - 512) = 0
r0 = 0
exit
