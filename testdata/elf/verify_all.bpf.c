/* Several programs for `bpfx verify OBJ`, which verifies each: two the verifier accepts
 * and one it rejects (it reads the packet without checking data_end). */
#include "bpfx_helpers.h"

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("socket")
int keep_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	return *(__u8 *)(long)ctx->data;
}

char LICENSE[] SEC("license") = "GPL";
