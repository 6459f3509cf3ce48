# 32-bit arithmetic on a pointer.
# expect: reject "R1 32-bit pointer arithmetic prohibited" at 0 (EACCES)
w1 += 1
r0 = 0
exit
