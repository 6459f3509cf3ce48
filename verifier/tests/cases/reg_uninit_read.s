# Reading a register never written.
# expect: reject "R2 !read_ok" at 0 (EACCES)
r0 = r2
exit
