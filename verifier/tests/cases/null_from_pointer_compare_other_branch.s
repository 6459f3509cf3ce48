# On the branch where the two pointers differ the lookup result may still be NULL.
# map: m=hash:8:8:4
# expect: reject "R6 invalid mem access 'map_value_or_null'" at 14 (EACCES)
*(u64 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
r6 = r0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
if r6 == r0 goto out
r0 = *(u64 *)(r6 + 0)
out:
r0 = 0
exit
