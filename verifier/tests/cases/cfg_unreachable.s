# Code after the last exit that nothing reaches.
# expect: reject "unreachable insn 2" at 2 (EINVAL)
r0 = 0
exit
r0 = 1
exit
