# Reading stack no store ever sized.
# privileged: no
# expect: reject "invalid read from stack R10 off=-8 size=8" at 0 (EACCES)
r0 = *(u64 *)(r10 - 8)
exit
