# As the in-frame case, but r0 <= 12 lets fp - 16 + r0 + 4 reach fp + 0.
# expect: reject "invalid variable-offset write to stack R2 var_off=(0x0; 0x1f) off=-16 size=1" at 7 (EINVAL)
call 7
r1 = r0
r1 += 4
if r0 > 12 goto +4
r2 = r10
r2 += -16
r2 += r1
*(u8 *)(r2 + 0) = 0
r0 = 0
exit
