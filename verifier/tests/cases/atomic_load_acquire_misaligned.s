# Load-acquire is always checked for alignment (strict_alignment_once), even where plain
# loads are not.
# expect: reject "misaligned stack access off 0+0+-7 size 4" at 1 (EACCES)
*(u64 *)(r10 - 8) = 0
r0 = load_acquire((u32 *)(r10 - 7))
exit
