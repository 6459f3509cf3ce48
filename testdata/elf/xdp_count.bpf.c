/* XDP: count packets per IP protocol in a hash map and pass them all; drop packets too
 * short to hold an Ethernet header. */
#include "bpfx_helpers.h"

#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u32 key = 0; /* not IPv4 */
	__u64 one = 1, *val;

	if (data + 14 > data_end)
		return XDP_DROP;
	if (eth[12] == 0x08 && eth[13] == 0x00) {
		if (data + 14 + 20 > data_end)
			return XDP_DROP;
		key = eth[14 + 9];
	}
	val = bpf_map_lookup_elem(&counts, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
