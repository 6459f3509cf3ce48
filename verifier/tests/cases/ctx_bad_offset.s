# A context load past `struct __sk_buff`.
# expect: reject "invalid bpf_context access off=1000 size=4" at 0 (EACCES)
r0 = *(u32 *)(r1 + 1000)
exit
