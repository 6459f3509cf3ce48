# bpf_loop with 10^8 iterations: the callback's visits end when the state at the call
# repeats, not after 10^8 of them.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# expect: accept
r2 = func(+7) ll
r1 = 100000000
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
