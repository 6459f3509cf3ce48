/* Only a .text function: an object with no program (a library of subprograms). */
#include "bpfx_helpers.h"

__noinline int helper_only(int x)
{
	return x + 1;
}
