# bpf_get_stackid takes only a stack trace map.
# type: kprobe
# map: a=array:4:8:4
# expect: reject "cannot pass map_type 2 into func bpf_get_stackid#27" at 3 (EINVAL)
r2 = map_fd(0) ll
r3 = 0
call 27
r0 = 0
exit
