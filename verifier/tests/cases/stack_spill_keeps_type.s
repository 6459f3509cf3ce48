# A spilled pointer comes back as a pointer: reading through it is a ctx access.
# expect: reject "invalid bpf_context access off=1000 size=4" at 2 (EACCES)
*(u64 *)(r10 - 8) = r1
r2 = *(u64 *)(r10 - 8)
r0 = *(u32 *)(r2 + 1000)
exit
