/* A socket filter keeping IPv4 TCP packets (whole) and dropping everything else.
 * A socket filter returns how many bytes of the packet to keep: 0 drops it. */
#include "bpfx_helpers.h"

#define ETH_P_IP 0x0800
#define IPPROTO_TCP 6

SEC("socket")
int keep_tcp(struct __sk_buff *skb)
{
	__u16 proto;
	__u8 ipproto;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0)
		return 0;
	if (proto != __builtin_bswap16(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, 14 + 9, &ipproto, sizeof(ipproto)) < 0)
		return 0;
	if (ipproto != IPPROTO_TCP)
		return 0;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
