# A jump that lands on the second slot of an lddw.
# expect: reject "jump into the middle of ldimm64 insn 1" at 1 (EINVAL)
if r1 == 0 goto +1
r0 = 1 ll
exit
