# Loops need privilege.
# privileged: no
# expect: reject "back-edge from insn 2 to 1" at 2 (EINVAL)
r0 = 0
loop:
r0 += 1
if r0 < 10 goto loop
exit
