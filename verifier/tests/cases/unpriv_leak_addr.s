# Returning a pointer leaks it.
# privileged: no
# expect: reject "R0 leaks addr as return value" at 1 (EACCES)
r0 = r10
exit
