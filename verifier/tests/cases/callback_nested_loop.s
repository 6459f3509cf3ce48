# A bpf_loop callback that runs a bpf_loop of its own: a third frame.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: accept
r2 = func(+7) ll
r1 = 3
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r2 = func(+7) ll
r1 = 3
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
