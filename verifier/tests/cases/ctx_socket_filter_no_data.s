# Socket filters cannot read `data`.
# expect: reject "invalid bpf_context access off=76 size=4" at 0 (EACCES)
r2 = *(u32 *)(r1 + 76)
r0 = 0
exit
