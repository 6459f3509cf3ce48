# A program array takes only bpf_tail_call.
# map: p=prog_array:4:4:4
# expect: reject "cannot pass map_type 3 into func bpf_map_lookup_elem#1" at 5 (EINVAL)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
r0 = 0
exit
