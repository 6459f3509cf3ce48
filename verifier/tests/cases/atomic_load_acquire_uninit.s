# Load-acquire of a stack slot never written: privileged programs may read it (as with
# plain loads).
# expect: accept
r0 = load_acquire((u64 *)(r10 - 8))
exit
