# Counts packets per protocol: the lookup result is checked before use.
r6 = r1
r1 = *(u32 *)(r6 + 16)
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 + 0) += r1
out:
r0 = 0
exit
