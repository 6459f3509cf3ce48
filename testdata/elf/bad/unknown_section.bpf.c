/* Bad on purpose: a program in a section whose name gives no program type. */
#include "../bpfx_helpers.h"

SEC("bogus/thing")
int nowhere(void *ctx)
{
	return 0;
}
