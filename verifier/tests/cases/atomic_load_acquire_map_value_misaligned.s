# Load-acquire from a map value is checked for alignment even without
# BPF_F_STRICT_ALIGNMENT.
# map: m=array:4:16:1
# expect: reject "misaligned value access off 0+0+2 size 4" at 7 (EACCES)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto out
r1 = load_acquire((u32 *)(r0 + 2))
out:
r0 = 0
exit
