/* Line info for messages: the tests compile this with clang-19 and check that bpfx
 * verify and bpfx run name the C line of the instruction they fail at. The line
 * numbers are in the tests' expectations: keep the code where it is. */
#include "../bpfx_helpers.h"

SEC("xdp")
int read_past_end(struct xdp_md *ctx)
{
	__u8 *data = (__u8 *)(long)ctx->data;

	return data[64]; /* no bounds check */
}

/* A section not loaded by default: `.BTF.ext` names it with its `?`. */
SEC("?xdp")
int optional(struct xdp_md *ctx)
{
	return 2;
}

char LICENSE[] SEC("license") = "GPL";
