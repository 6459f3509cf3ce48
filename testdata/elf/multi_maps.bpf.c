/* Several maps of every kind in one object: two BTF-defined maps, a legacy one and .bss,
 * so each reference must reach the right map. The verdict comes from a config array;
 * lengths are counted in a hash map; bytes are summed in the legacy array. */
#include "bpfx_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lengths SEC(".maps");

struct bpf_map_def SEC("maps") byte_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

__u64 total;

SEC("xdp")
int multi(struct xdp_md *ctx)
{
	__u32 zero = 0, len = ctx->data_end - ctx->data;
	__u32 *verdict = bpf_map_lookup_elem(&config, &zero);
	__u64 one = 1, *v, *bytes;

	v = bpf_map_lookup_elem(&lengths, &len);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&lengths, &len, &one, BPF_ANY);
	bytes = bpf_map_lookup_elem(&byte_count, &zero);
	if (bytes)
		*bytes += len;
	total++;
	return verdict && *verdict ? *verdict : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
