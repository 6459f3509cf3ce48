# A conditional jump past the end (`check_cfg`'s jump check).
# expect: reject "jump out of range from insn 0 to 6" at 0 (EINVAL)
if r1 == 0 goto +5
r0 = 0
exit
