/* Helpers the VM added for issue #18: bpf_for_each_map_elem with a callback, the string
 * helpers (strtol, strtoul, strncmp, snprintf), dynptrs over a map value, and
 * bpf_trace_vprintk. XDP programs, so the kernel can test-run them too; results go to
 * global variables. */
#include "bpfx_helpers.h"

static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;
static long (*bpf_strtol)(const char *buf, unsigned long buf_len, __u64 flags, long *res) = (void *)105;
static long (*bpf_strtoul)(const char *buf, unsigned long buf_len, __u64 flags, unsigned long *res) = (void *)106;
static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)182;
static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data, __u32 data_len) = (void *)165;
static long (*bpf_trace_vprintk)(const char *fmt, __u32 fmt_size, const void *data, __u32 data_len) = (void *)177;

struct bpf_dynptr {
	__u64 __opaque[2];
} __attribute__((aligned(8)));
static long (*bpf_dynptr_from_mem)(void *data, __u32 size, __u64 flags, struct bpf_dynptr *ptr) = (void *)197;
static long (*bpf_dynptr_read)(void *dst, __u32 len, const struct bpf_dynptr *src, __u32 offset, __u64 flags) = (void *)201;
static long (*bpf_dynptr_write)(const struct bpf_dynptr *dst, __u32 offset, void *src, __u32 len, __u64 flags) = (void *)202;
static void *(*bpf_dynptr_data)(const struct bpf_dynptr *ptr, __u32 offset, __u32 len) = (void *)203;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

__u32 stop_at = 99;
__u64 sum;

static long add_value(void *map, __u32 *key, __u64 *val, void *ctx)
{
	sum += *val;
	return *key == stop_at;
}

/* Sums the array's values until the key `stop_at`; returns the elements visited. */
SEC("xdp")
int each_elem(struct xdp_md *ctx)
{
	return bpf_for_each_map_elem(&vals, add_value, 0, 0);
}

long l_ret, l_val, ul_ret, ul_val, cmp_eq, cmp_lt, sn_ret;
__u64 sn_text;

/* strtol/strtoul of strings on the stack. */
SEC("xdp")
int strings(struct xdp_md *ctx)
{
	char num[] = " -0x1fz";
	char big[] = "18446744073709551615";

	l_ret = bpf_strtol(num, sizeof(num) - 1, 0, &l_val);
	ul_ret = bpf_strtoul(big, sizeof(big) - 1, 10, (unsigned long *)&ul_val);
	return XDP_PASS;
}

/* strncmp and snprintf take constant strings (ARG_PTR_TO_CONST_STR: a frozen read-only
 * map in the kernel). */
SEC("xdp")
int const_strings(struct xdp_md *ctx)
{
	char name[] = "hello";
	char out[16] = {};
	__u64 args[2] = { 42, 7 };
	static const char fmt[] = "%d/%x";

	cmp_eq = bpf_strncmp(name, 5, "hello");
	cmp_lt = bpf_strncmp(name, 5, "help");
	sn_ret = bpf_snprintf(out, sizeof(out), fmt, args, sizeof(args));
	__builtin_memcpy(&sn_text, out, 8);
	return XDP_PASS;
}

char area[16] = "0123456789abcdef";
long dp_from, dp_write, dp_read, dp_oob, dp_data_off;
__u64 dp_got;

/* A dynptr over a global buffer: write, read back, out-of-bounds read, data pointer. */
SEC("xdp")
int dynptrs(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	char patch[2] = { 'X', 'Y' };
	char *p;

	dp_from = bpf_dynptr_from_mem(area, sizeof(area), 0, &ptr);
	dp_write = bpf_dynptr_write(&ptr, 4, patch, 2, 0);
	dp_read = bpf_dynptr_read(&dp_got, 8, &ptr, 2, 0);
	dp_oob = bpf_dynptr_read(&dp_got, 8, &ptr, 9, 0);
	p = bpf_dynptr_data(&ptr, 8, 8);
	dp_data_off = p ? p - area : -1;
	return XDP_PASS;
}

long vp_ret;

/* bpf_printk with more than three arguments compiles to bpf_trace_vprintk. */
SEC("xdp")
int vprintk(struct xdp_md *ctx)
{
	static const char fmt[] = "%d %d %d %d";
	__u64 args[4] = { 1, 2, 3, 4 };

	vp_ret = bpf_trace_vprintk(fmt, sizeof(fmt), args, sizeof(args));
	return XDP_PASS;
}

struct bpf_timer {
	__u64 __opaque[2];
} __attribute__((aligned(8)));
static long (*bpf_timer_init)(struct bpf_timer *timer, void *map, __u64 flags) = (void *)169;
static long (*bpf_timer_set_callback)(struct bpf_timer *timer, void *callback_fn) = (void *)170;
static long (*bpf_timer_start)(struct bpf_timer *timer, __u64 nsecs, __u64 flags) = (void *)171;

struct tick {
	__u64 count;
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick);
} ticks SEC(".maps");

__u64 fired;
long init_ret;

static int on_tick(void *map, __u32 *key, struct tick *v)
{
	static const char fmt[] = "tick %d";

	fired++;
	v->count++;
	bpf_trace_printk(fmt, sizeof(fmt), v->count);
	return 0;
}

/* Arms a 1 µs timer on CLOCK_MONOTONIC; the callback counts. */
SEC("xdp")
int timer(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct tick *v = bpf_map_lookup_elem(&ticks, &key);

	if (!v)
		return XDP_ABORTED;
	init_ret = bpf_timer_init(&v->t, &ticks, 1);
	bpf_timer_set_callback(&v->t, on_tick);
	bpf_timer_start(&v->t, 1000, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
