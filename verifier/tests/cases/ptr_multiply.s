# Multiplying a pointer.
# expect: reject "R1 pointer arithmetic with *= operator prohibited" at 0 (EACCES)
r1 *= 2
r0 = 0
exit
