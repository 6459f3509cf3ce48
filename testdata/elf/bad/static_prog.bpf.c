/* Bad on purpose: a static function in a program section (libbpf rejects it too). */
#include "../bpfx_helpers.h"

SEC("xdp")
static int hidden(struct xdp_md *ctx)
{
	return XDP_PASS;
}
