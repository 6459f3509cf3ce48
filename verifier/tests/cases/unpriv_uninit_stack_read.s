# Reading allocated but unwritten stack.
# privileged: no
# expect: reject "invalid read from stack off -8+0 size 8" at 1 (EACCES)
*(u64 *)(r10 - 16) = 0
r0 = *(u64 *)(r10 - 8)
exit
