# Load-acquire checks the pointer type before the access: a context offset that does not
# exist still gets the type message.
# type: sched_cls
# expect: reject "BPF_ATOMIC loads from R1 ctx is not allowed" at 0 (EACCES)
r0 = load_acquire((u32 *)(r1 + 1000))
exit
