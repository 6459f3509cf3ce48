# Exit without setting r0.
# expect: reject "R0 !read_ok" at 0 (EACCES)
exit
