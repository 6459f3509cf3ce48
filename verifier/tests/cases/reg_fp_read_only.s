# Writing the frame pointer.
# expect: reject "frame pointer is read only" at 0 (EACCES)
r10 = 0
exit
