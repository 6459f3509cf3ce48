# A lookup result used without a NULL check.
# map: m=hash:8:8:1
# expect: reject "R0 invalid mem access 'map_value_or_null'" at 6 (EACCES)
*(u64 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
r0 = *(u64 *)(r0 + 0)
exit
