# Store-release into a map value, after the NULL check.
# map: m=array:4:8:1
# expect: accept
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r1 = 7
store_release((u64 *)(r0 + 0), r1)
out:
r0 = 0
exit
