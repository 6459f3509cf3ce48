/* A ring buffer producer: for each packet, one record with its length and first byte
 * through reserve/submit, and a second, fixed one through bpf_ringbuf_output. */
#include "bpfx_helpers.h"

struct event {
	__u32 len;
	__u32 first;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int produce(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct event *e;
	__u64 marker = 0x1122334455667788ULL;

	if (data + 1 > data_end)
		return XDP_PASS;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_DROP;
	e->len = data_end - data;
	e->first = *(__u8 *)data;
	bpf_ringbuf_submit(e, 0);
	bpf_ringbuf_output(&events, &marker, sizeof(marker), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
