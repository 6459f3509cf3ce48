# bpf_map_pop_elem takes only queue and stack maps.
# map: h=hash:8:8:4
# expect: reject "cannot pass map_type 1 into func bpf_map_pop_elem#88" at 4 (EINVAL)
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 88
r0 = 0
exit
