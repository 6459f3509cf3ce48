# Falling off the end of the program.
# expect: reject "last insn is not an exit or jmp" at 0 (EINVAL)
r0 = 0
