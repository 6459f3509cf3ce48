# Without privilege fp + 8 is refused at once (`sanitize_check_bounds`).
# privileged: no
# expect: reject "R1 stack pointer arithmetic goes out of range, prohibited for !root, off=8" at 1 (EACCES)
r1 = r10
r1 += 8
r0 = 0
exit
