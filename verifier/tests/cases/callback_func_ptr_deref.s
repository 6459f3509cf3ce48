# A function pointer is not memory.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "R1 invalid mem access 'func'" at 2 (EACCES)
r1 = func(+4) ll
r0 = *(u64 *)(r1 + 0)
r0 = 0
exit
r0 = 0
exit
