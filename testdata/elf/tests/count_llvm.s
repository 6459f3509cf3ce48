# Count runs in an array map (map index 0) and pass the packet: LLVM syntax.
*(u32 *)(r10 - 4) = 0
r1 = map_idx(0) ll
r2 = r10
r2 += -4
call bpf_map_lookup_elem
if r0 == 0 goto done
r1 = *(u64 *)(r0 + 0)
r1 += 1
*(u64 *)(r0 + 0) = r1
done:
r0 = 2
exit
