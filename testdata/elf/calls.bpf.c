/* bpf-to-bpf calls: non-inlined functions in .text called from two programs, one of
 * which calls another (a call chain two deep). */
#include "bpfx_helpers.h"

__noinline int square(int x)
{
	return x * x;
}

__noinline int sum_of_squares(int a, int b)
{
	return square(a) + square(b);
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + 2 > data_end)
		return XDP_ABORTED;
	/* 3^2 + 4^2 = 25: pass; anything else: drop. */
	return sum_of_squares(p[0], p[1]) == 25 ? XDP_PASS : XDP_DROP;
}

SEC("socket")
int socket_calls(struct __sk_buff *skb)
{
	return square(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
