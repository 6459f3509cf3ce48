# bpf_skb_store_bytes from a socket filter.
# expect: reject "program of this type cannot use helper bpf_skb_store_bytes#9" at 0 (EINVAL)
call 9
r0 = 0
exit
