# No arithmetic on a function pointer.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "R2 pointer arithmetic on func prohibited" at 2 (EACCES)
r2 = func(+4) ll
r2 += 8
r0 = 0
exit
r0 = 0
exit
