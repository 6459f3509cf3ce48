# fp + 8 is fine while nothing reads through it.
# expect: accept
r1 = r10
r1 += 8
r0 = 0
exit
