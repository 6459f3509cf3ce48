# A queue map has no keys: bpf_map_lookup_elem's key is a zero-sized read, refused before
# the map type is.
# map: q=queue:0:8:4
# expect: reject "invalid zero-sized read" at 5 (EACCES)
*(u64 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map_fd(0) ll
call 1
r0 = 0
exit
