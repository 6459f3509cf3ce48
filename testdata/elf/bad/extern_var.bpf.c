/* Bad on purpose: reads a variable defined in no object (a relocation bpfx cannot resolve). */
#include "../bpfx_helpers.h"

extern __u32 defined_elsewhere;

SEC("xdp")
int uses_extern(struct xdp_md *ctx)
{
	return defined_elsewhere;
}
