# Store-release into a writable context field (__sk_buff cb[0]): the access is valid, the
# pointer type is not (atomic_ptr_type_ok).
# expect: reject "BPF_ATOMIC stores into R1 ctx is not allowed" at 1 (EACCES)
r2 = 0
store_release((u32 *)(r1 + 48), r2)
r0 = 0
exit
