# A store through the map pointer itself.
# map: a=array:4:8:1
# expect: reject "only read from bpf_array is supported" at 2 (EACCES)
r1 = map_fd(0) ll
*(u32 *)(r1 + 0) = 0
r0 = 0
exit
