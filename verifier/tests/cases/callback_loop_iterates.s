# The callback is visited again until the state at the call repeats: the first visit finds
# the context slot 0 and writes 1 there; only the second visit takes the branch that
# dereferences what it read, a scalar.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "R3 invalid mem access 'scalar'" at 12 (EACCES)
*(u64 *)(r10 - 8) = 0
r1 = 4
r2 = func(+7) ll
r3 = r10
r3 += -8
r4 = 0
call 181
r0 = 0
exit
r3 = *(u64 *)(r2 + 0)
if r3 == 0 goto first
r0 = *(u64 *)(r3 + 0)
first:
*(u64 *)(r2 + 0) = 1
r0 = 0
exit
