# bpf_sk_lookup_tcp's socket never released.
# type: sched_cls
# expect: reject "BPF_EXIT instruction in main prog would lead to reference leak" at 12 (EINVAL)
*(u64 *)(r10 - 8) = 0
*(u64 *)(r10 - 16) = 0
*(u64 *)(r10 - 24) = 0
*(u64 *)(r10 - 32) = 0
*(u64 *)(r10 - 40) = 0
r2 = r10
r2 += -40
r3 = 36
r4 = 0
r5 = 0
call 84
r0 = 0
exit
