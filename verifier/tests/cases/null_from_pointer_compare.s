# A lookup result compared equal with a pointer known not to be NULL is not NULL on that
# branch (mark_ptr_not_null_reg), and only there.
# map: m=hash:8:8:4
# expect: accept
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
if r6 != r0 goto out
r0 = *(u64 *)(r6 + 0)
out:
r0 = 0
exit
