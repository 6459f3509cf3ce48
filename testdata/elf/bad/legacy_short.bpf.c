/* Bad on purpose: a legacy map definition too short for struct bpf_map_def. */
#include "../bpfx_helpers.h"

struct short_def {
	unsigned int type;
	unsigned int key_size;
};

struct short_def SEC("maps") stubby = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4 };

SEC("xdp")
int uses_stubby(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&stubby, &k) ? XDP_PASS : XDP_DROP;
}
