# A scalar where the lookup wants a map pointer.
# expect: reject "R1 type=scalar expected=map_ptr" at 2 (EACCES)
r1 = 0
r2 = 0
call 1
r0 = 0
exit
