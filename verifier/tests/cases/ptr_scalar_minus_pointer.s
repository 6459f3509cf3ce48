# scalar - pointer (`adjust_ptr_min_max_vals`).
# expect: reject "R0 tried to subtract pointer from scalar" at 1 (EACCES)
r0 = 0
r0 -= r10
exit
