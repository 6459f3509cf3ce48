# A function pointer (a bpf_loop callback) in a program loaded without BTF func_info.
# expect: reject "missing btf func_info" at 1 (EINVAL)
r1 = 4
r2 = func(+6) ll
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
