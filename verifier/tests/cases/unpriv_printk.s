# bpf_trace_printk needs privilege.
# privileged: no
# expect: reject "program of this type cannot use helper bpf_trace_printk#6" at 4 (EINVAL)
*(u64 *)(r10 - 8) = 0
r1 = r10
r1 += -8
r2 = 8
call 6
r0 = 0
exit
