# A store to a read-only context field.
# expect: reject "invalid bpf_context access off=0 size=4" at 0 (EACCES)
*(u32 *)(r1 + 0) = 0
r0 = 0
exit
