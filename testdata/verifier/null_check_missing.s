# Reads a map value without checking the lookup result for NULL.
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
r0 = *(u64 *)(r0 + 0)
exit
