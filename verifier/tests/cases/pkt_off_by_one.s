# data + 8 <= data_end does not prove byte 8.
# type: sched_cls
# expect: reject "R2 offset is outside of the packet" at 5 (EACCES)
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 8
if r4 > r3 goto +2
r0 = *(u8 *)(r2 + 8)
exit
r0 = 0
exit
