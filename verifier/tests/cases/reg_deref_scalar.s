# Loading through a scalar.
# expect: reject "R0 invalid mem access 'scalar'" at 1 (EACCES)
r0 = 0
r0 = *(u32 *)(r0 + 0)
exit
