# A jump to itself: the same state comes back (`is_state_visited` finds the loop).
# expect: reject "old state: R0=0 R1=ctx() R10=fp0" at 1 (EINVAL)
r0 = 0
if r1 == 0 goto -1
exit
