# Load-acquire from checked packet data: no atomics on packets.
# type: xdp
# expect: reject "BPF_ATOMIC loads from R2 pkt is not allowed" at 5 (EACCES)
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto out
r0 = load_acquire((u32 *)(r2 + 0))
out:
r0 = 2
exit
