# A packet read without comparing against data_end.
# type: sched_cls
# expect: reject "R2 offset is outside of the packet" at 1 (EACCES)
r2 = *(u32 *)(r1 + 76)
r0 = *(u8 *)(r2 + 0)
exit
