# Load-acquire from the context: the access is valid, the pointer type is not
# (atomic_ptr_type_ok), and the kernel says so after checking the access.
# type: sched_cls
# expect: reject "BPF_ATOMIC loads from R1 ctx is not allowed" at 0 (EACCES)
r0 = load_acquire((u32 *)(r1 + 0))
exit
