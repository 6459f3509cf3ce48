# A helper id the kernel does not have.
# expect: reject "invalid func unknown#9999" at 0 (EINVAL)
call 9999
r0 = 0
exit
