# fp-8 holds either fp-16 or the ctx pointer; insn 10 stores through what it holds.
# type: sched_cls
# expect: reject "same insn cannot be used with different pointers" at 10 (EINVAL)
r3 = 42
r6 = r10
r6 += -8
if r1 == 0 goto +3
r2 = r10
r2 += -16
*(u64 *)(r6 + 0) = r2
if r1 != 0 goto +1
*(u64 *)(r6 + 0) = r1
r1 = *(u64 *)(r6 + 0)
*(u32 *)(r1 + 8) = r3
r0 = 0
exit
