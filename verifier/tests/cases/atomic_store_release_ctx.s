# Store-release into the context: __sk_buff offset 0 (len) is not writable, which the
# kernel finds before the pointer type.
# type: sched_cls
# expect: reject "invalid bpf_context access off=0 size=4" at 1 (EACCES)
r2 = 0
store_release((u32 *)(r1 + 0), r2)
r0 = 0
exit
