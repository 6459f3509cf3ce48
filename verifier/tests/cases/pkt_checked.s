# data + 8 <= data_end proves bytes 0..8.
# type: sched_cls
# expect: accept
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 8
if r4 > r3 goto +2
r0 = *(u8 *)(r2 + 7)
exit
r0 = 0
exit
