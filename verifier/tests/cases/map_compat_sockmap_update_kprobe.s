# A kprobe may not delete from a sockmap ("cannot update sockmap in this context"; the last
# line names the map type and the helper).
# type: kprobe
# map: s=sockmap:4:4:4
# expect: reject "cannot pass map_type 15 into func bpf_map_delete_elem#3" at 5 (EINVAL)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 3
r0 = 0
exit
