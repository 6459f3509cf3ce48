# Loading through ctx + 4.
# expect: reject "dereference of modified ctx ptr R1 off=4 disallowed" at 1 (EACCES)
r1 += 4
r0 = *(u32 *)(r1 + 0)
exit
