# Load-acquire of each size from an initialised stack slot: an ordinary, aligned load.
# expect: accept
*(u64 *)(r10 - 8) = 0
r0 = load_acquire((u8 *)(r10 - 8))
r0 = load_acquire((u16 *)(r10 - 8))
r0 = load_acquire((u32 *)(r10 - 8))
r0 = load_acquire((u64 *)(r10 - 8))
exit
