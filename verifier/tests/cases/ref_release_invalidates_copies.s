# Releasing a socket invalidates every copy of the pointer (same ref_obj_id), here a spilled
# one read back after bpf_sk_release.
# type: sched_cls
# expect: reject "R1 invalid mem access 'scalar'" at 16 (EACCES)
*(u64 *)(r10 - 8) = 0
*(u64 *)(r10 - 16) = 0
*(u64 *)(r10 - 24) = 0
*(u64 *)(r10 - 32) = 0
*(u64 *)(r10 - 40) = 0
r2 = r10
r2 += -40
r3 = 36
r4 = -1
r5 = 0
call 84
if r0 == 0 goto out
*(u64 *)(r10 - 48) = r0
r1 = r0
call 86
r1 = *(u64 *)(r10 - 48)
r0 = *(u32 *)(r1 + 0)
out:
r0 = 0
exit
