# A bpf_loop callback must return 0 or 1.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: reject "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]" at 9 (EINVAL)
r1 = 4
r2 = func(+6) ll
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 2
exit
