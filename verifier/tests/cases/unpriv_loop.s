# bpf_loop (like every helper that calls back) needs CAP_BPF: bpf_base_func_proto offers it
# only after its bpf_capable() check.
# privileged: no
# expect: reject "program of this type cannot use helper bpf_loop#181" at 4 (EINVAL)
r1 = 1
r2 = 0
r3 = 0
r4 = 0
call 181
r0 = 0
exit
