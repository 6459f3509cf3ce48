/* Global data: a const (.rodata) configuration value, a string literal for
 * bpf_trace_printk (.rodata.str1.1), an initialized counter (.data) and a zeroed one
 * (.bss). libbpf turns each section into a one-entry array map. */
#include "bpfx_helpers.h"

const volatile __u32 threshold = 100;
__u64 packets = 7;
__u64 big_packets;

SEC("xdp")
int global_data(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	packets++;
	if (len > threshold) {
		big_packets++;
		bpf_trace_printk("big packet: %u bytes\n", sizeof("big packet: %u bytes\n"), len);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
