# bpf_loop's second argument must be a function.
# expect: reject "R2 type=scalar expected=func" at 4 (EACCES)
r1 = 4
r2 = 0
r3 = 0
r4 = 0
call 181
r0 = 0
exit
