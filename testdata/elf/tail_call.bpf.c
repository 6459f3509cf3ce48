/* Tail calls through a program array: the entry program jumps to the program at the index
 * given by the first packet byte; when the slot is empty the call falls through. The
 * jump table uses the legacy `maps` section, the way older programs declared maps. */
#include "bpfx_helpers.h"

struct bpf_map_def SEC("maps") jump_table = {
	.type = BPF_MAP_TYPE_PROG_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 4,
};

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	bpf_tail_call(ctx, &jump_table, p[0]);
	/* Only reached when the slot is empty. */
	return XDP_PASS;
}

SEC("xdp")
int drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int bounce(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
