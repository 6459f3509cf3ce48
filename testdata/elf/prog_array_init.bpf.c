/* Tail calls through a BTF-defined program array whose slots are filled in the object
 * itself (`.values`), the way libbpf initialises program arrays at load time. */
#include "bpfx_helpers.h"

SEC("xdp")
int to_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int to_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} slots SEC(".maps") = {
	.values = {
		[1] = (void *)&to_drop,
		[3] = (void *)&to_tx,
	},
};

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	bpf_tail_call(ctx, &slots, p[0]);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
