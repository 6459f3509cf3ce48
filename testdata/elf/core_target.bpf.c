/* Not a program: the target BTF for core_read.bpf.c's CO-RE relocations, with the
 * types laid out differently from the program's view of them. */
#include "libbpf_types.h"
#include <bpf/bpf_helpers.h>

enum color { GREEN = 10, BLUE = 20, RED = 30 };

struct inner {
	long pad;
	int b;
	int a;
};

struct sample {
	int pad[3];
	struct inner in;
	short pad2;
	unsigned int flag : 3;
	int sflag : 5;
	int y;
	int arr[8];
	union {
		long u1;
		short u2;
	};
	int newer;
	unsigned int cnt;
};

struct sample target_sample;
enum color target_color;

char LICENSE[] SEC("license") = "GPL";
