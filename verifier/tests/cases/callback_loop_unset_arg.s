# A bpf_loop callback has two arguments: r3 is not set.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "R3 !read_ok" at 8 (EACCES)
r1 = 4
r2 = func(+6) ll
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = r3
exit
