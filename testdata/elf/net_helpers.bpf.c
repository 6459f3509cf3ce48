/* Packet, checksum, redirect and skb metadata helpers, each result stored in the `out`
 * array (key = step) so the VM and the kernel can be compared step by step
 * (tests/net_tc.toml, tests/net_xdp.toml). Written for bpfx; no libbpf headers. */
#include "bpfx_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 24);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct bpf_redir_neigh {
	__u32 nh_family;
	__u32 ipv6_nh[4];
};

static long (*bpf_skb_change_proto)(void *skb, __u16 proto, __u64 flags) = (void *)31;
static long (*bpf_skb_adjust_room)(void *skb, __s32 len_diff, __u32 mode, __u64 flags) = (void *)50;
static long (*bpf_skb_ecn_set_ce)(void *skb) = (void *)97;
static long (*bpf_check_mtu)(void *ctx, __u32 ifindex, __u32 *mtu_len, __s32 len_diff, __u64 flags) = (void *)163;
static long (*bpf_fib_lookup)(void *ctx, void *params, int plen, __u32 flags) = (void *)69;
static long (*bpf_skb_get_tunnel_key)(void *skb, void *key, __u32 size, __u64 flags) = (void *)20;
static long (*bpf_skb_set_tunnel_key)(void *skb, void *key, __u32 size, __u64 flags) = (void *)21;
struct bpf_sock {
	__u32 bound_dev_if;
	__u32 family;
	__u32 type;
	__u32 protocol;
	__u32 mark;
	__u32 priority;
	__u32 src_ip4;
	__u32 src_ip6[4];
	__u32 src_port;
	__u16 dst_port;
	__u16 :16;
	__u32 dst_ip4;
	__u32 dst_ip6[4];
	__u32 state;
	__s32 rx_queue_mapping;
};
struct tuple4 {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};
static struct bpf_sock *(*bpf_sk_lookup_tcp)(void *ctx, void *tuple, __u32 size, __u64 netns, __u64 flags) = (void *)84;
static struct bpf_sock *(*bpf_sk_lookup_udp)(void *ctx, void *tuple, __u32 size, __u64 netns, __u64 flags) = (void *)85;
static long (*bpf_sk_release)(void *sk) = (void *)86;
static struct bpf_sock *(*bpf_skc_lookup_tcp)(void *ctx, void *tuple, __u32 size, __u64 netns, __u64 flags) = (void *)99;
static long (*bpf_skb_store_bytes)(void *skb, __u32 off, const void *from, __u32 len, __u64 flags) = (void *)9;
static long (*bpf_l3_csum_replace)(void *skb, __u32 off, __u64 from, __u64 to, __u64 flags) = (void *)10;
static long (*bpf_l4_csum_replace)(void *skb, __u32 off, __u64 from, __u64 to, __u64 flags) = (void *)11;
static long (*bpf_clone_redirect)(void *skb, __u32 ifindex, __u64 flags) = (void *)13;
static __u32 (*bpf_get_cgroup_classid)(void *skb) = (void *)17;
static long (*bpf_skb_vlan_push)(void *skb, __u16 proto, __u16 tci) = (void *)18;
static long (*bpf_skb_vlan_pop)(void *skb) = (void *)19;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)23;
static __u32 (*bpf_get_route_realm)(void *skb) = (void *)24;
static __s64 (*bpf_csum_diff)(void *from, __u32 from_size, void *to, __u32 to_size, __u32 seed) = (void *)28;
static long (*bpf_skb_change_type)(void *skb, __u32 type) = (void *)32;
static __u32 (*bpf_get_hash_recalc)(void *skb) = (void *)34;
static long (*bpf_skb_change_tail)(void *skb, __u32 len, __u64 flags) = (void *)38;
static long (*bpf_skb_pull_data)(void *skb, __u32 len) = (void *)39;
static __s64 (*bpf_csum_update)(void *skb, __u32 csum) = (void *)40;
static long (*bpf_set_hash_invalid)(void *skb) = (void *)41;
static long (*bpf_skb_change_head)(void *skb, __u32 len, __u64 flags) = (void *)43;
static long (*bpf_xdp_adjust_head)(void *xdp, int delta) = (void *)44;
static __u32 (*bpf_get_socket_uid)(void *skb) = (void *)47;
static long (*bpf_set_hash)(void *skb, __u32 hash) = (void *)48;
static long (*bpf_xdp_adjust_meta)(void *xdp, int delta) = (void *)54;
static long (*bpf_xdp_adjust_tail)(void *xdp, int delta) = (void *)65;
static long (*bpf_skb_load_bytes_relative)(const void *skb, __u32 off, void *to, __u32 len, __u32 start) = (void *)68;
static long (*bpf_csum_level)(void *skb, __u64 level) = (void *)135;
static long (*bpf_redirect_neigh)(__u32 ifindex, struct bpf_redir_neigh *params, int plen, __u64 flags) = (void *)152;
static long (*bpf_redirect_peer)(__u32 ifindex, __u64 flags) = (void *)155;
static __u64 (*bpf_xdp_get_buff_len)(void *xdp) = (void *)188;
static long (*bpf_xdp_load_bytes)(void *xdp, __u32 off, void *buf, __u32 len) = (void *)189;
static long (*bpf_xdp_store_bytes)(void *xdp, __u32 off, void *buf, __u32 len) = (void *)190;

static __always_inline void put(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&out, &k);

	if (p)
		*p = v;
}

#define BPF_F_PSEUDO_HDR (1ULL << 4)
#define BPF_F_MARK_MANGLED_0 (1ULL << 5)

/* IPv4/TCP frame: rewrite the source address and fix both checksums; errno paths. */
SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	__u32 old_ip, new_ip = 0x0b00000a; /* 10.0.0.11 as it lies in memory */
	__u32 a = 0x01020304, b = 0x05060708;
	__s64 d;

	if (bpf_skb_load_bytes(skb, 26, &old_ip, 4))
		return 2;
	put(0, bpf_skb_store_bytes(skb, 26, &new_ip, 4, 0));
	put(1, bpf_l3_csum_replace(skb, 24, old_ip, new_ip, 4));
	put(2, bpf_l4_csum_replace(skb, 50, old_ip, new_ip, BPF_F_PSEUDO_HDR | 4));
	put(3, bpf_skb_store_bytes(skb, 26, &new_ip, 4, 4));
	put(4, bpf_skb_store_bytes(skb, 60000, &new_ip, 4, 0));
	put(5, bpf_l3_csum_replace(skb, 25, 0, 0, 2));
	put(6, bpf_l4_csum_replace(skb, 50, 0, 0, 3));
	put(7, bpf_csum_diff(&a, 4, &b, 4, 0));
	put(8, bpf_csum_diff(0, 0, &b, 4, 0x1234));
	put(9, bpf_csum_diff(&a, 4, 0, 0, 0x1234));
	d = bpf_csum_diff(&a, 4, &b, 4, 0);
	/* Undo the address change by a diff (size 0). */
	put(10, bpf_l3_csum_replace(skb, 24, 0, bpf_csum_diff(&new_ip, 4, &old_ip, 4, 0), 0));
	put(11, bpf_l3_csum_replace(skb, 24, 1, d, 0));
	put(12, bpf_csum_update(skb, 5));
	put(13, bpf_csum_level(skb, 0));
	put(14, bpf_csum_level(skb, 1));
	put(15, bpf_csum_level(skb, 0));
	put(16, bpf_csum_level(skb, 1));
	put(17, bpf_csum_level(skb, 0));
	put(18, bpf_csum_level(skb, 2));
	put(19, bpf_csum_level(skb, 9));
	put(20, bpf_l3_csum_replace(skb, 24, 0x1111, 0x2222, 2));
	put(21, bpf_l4_csum_replace(skb, 50, 0x3333, 0x4444, 2));
	put(22, bpf_l4_csum_replace(skb, 40, 0, 0, BPF_F_MARK_MANGLED_0 | 2));
	put(23, bpf_l3_csum_replace(skb, 70000, 0, 0, 2));
	return 0;
}

/* UDP with a zero checksum: BPF_F_MARK_MANGLED_0 leaves it alone. */
SEC("tc")
int tc_udp_mangled(struct __sk_buff *skb)
{
	put(0, bpf_l4_csum_replace(skb, 40, 0x1234, 0x1234, BPF_F_MARK_MANGLED_0 | 2));
	/* Not zero: a change that sums to 0 is sent as 0xffff. */
	put(1, bpf_l4_csum_replace(skb, 24, 0, 0, BPF_F_MARK_MANGLED_0 | 2));
	return 0;
}

SEC("tc")
int tc_resize(struct __sk_buff *skb)
{
	__u32 buf = 0;

	put(0, bpf_skb_change_tail(skb, skb->len + 8, 0));
	put(1, skb->len);
	put(2, bpf_skb_change_head(skb, 14, 0));
	put(3, skb->len);
	put(4, bpf_skb_pull_data(skb, 0));
	put(5, bpf_skb_pull_data(skb, 10000));
	put(6, bpf_skb_change_tail(skb, 10, 0));
	put(7, bpf_skb_change_tail(skb, 40, 1));
	put(8, bpf_skb_change_type(skb, 3));
	put(9, skb->pkt_type);
	put(10, bpf_skb_change_type(skb, 7));
	put(11, bpf_skb_load_bytes_relative(skb, 0, &buf, 4, 1));
	put(12, buf);
	put(13, bpf_skb_load_bytes_relative(skb, 12, &buf, 4, 0));
	put(14, buf);
	put(15, bpf_skb_load_bytes_relative(skb, 0, &buf, 4, 2));
	put(16, skb->data_end - skb->data);
	put(17, bpf_skb_change_tail(skb, 100000, 0));
	put(18, bpf_skb_change_head(skb, 0xffffffff, 0));
	put(19, bpf_skb_load_bytes_relative(skb, 0, &buf, 4, 1));
	put(20, buf);
	return 0;
}

SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	put(0, bpf_skb_vlan_push(skb, 0x0081, 5));
	put(1, skb->vlan_present);
	put(2, skb->vlan_tci);
	put(3, skb->len);
	put(4, bpf_skb_vlan_push(skb, 0xa888, 7));
	put(5, skb->len);
	put(6, skb->protocol);
	put(7, skb->vlan_proto);
	put(8, bpf_skb_vlan_pop(skb));
	put(9, skb->vlan_tci);
	put(10, skb->len);
	put(11, bpf_skb_vlan_pop(skb));
	put(12, skb->vlan_present);
	put(13, skb->len);
	put(14, skb->protocol);
	put(15, bpf_skb_vlan_pop(skb));
	put(16, bpf_skb_vlan_push(skb, 0x1234, 9));
	put(17, skb->vlan_proto);
	return 0;
}

SEC("tc")
int tc_hash_redirect(struct __sk_buff *skb)
{
	struct bpf_redir_neigh nh = { 2, { 0x0100000a } };

	put(0, bpf_set_hash(skb, 0x1234));
	put(1, bpf_get_hash_recalc(skb));
	put(2, bpf_set_hash_invalid(skb));
	put(3, skb->hash);
	put(4, bpf_get_cgroup_classid(skb));
	put(5, bpf_get_route_realm(skb));
	put(6, bpf_get_socket_uid(skb));
	put(7, bpf_clone_redirect(skb, 0x7fffffff, 0));
	put(8, bpf_clone_redirect(skb, 1, 3));
	put(9, bpf_redirect(1, 2));
	put(10, bpf_redirect_peer(1, 1));
	put(11, bpf_redirect_neigh(1, &nh, 8, 0));
	put(12, bpf_redirect_neigh(1, &nh, sizeof(nh), 1));
	put(13, bpf_redirect_neigh(1, &nh, sizeof(nh), 0));
	put(14, bpf_redirect_peer(1, 0));
	return bpf_redirect(1, 1);
}

/* The hash the kernel computes itself is keyed with a random secret: the VM takes it from
 * the test (env.flow_hash), and the kernel case is skipped. */
SEC("tc")
int tc_flow_hash(struct __sk_buff *skb)
{
	put(0, bpf_get_hash_recalc(skb));
	put(1, skb->hash);
	put(2, bpf_csum_update(skb, 0x10));
	return 0;
}

/* A copy out of the loopback device, one into it, then the packet itself redirected. */
SEC("tc")
int tc_clone(struct __sk_buff *skb)
{
	put(0, bpf_clone_redirect(skb, 1, 0));
	put(1, bpf_clone_redirect(skb, 1, 1));
	put(2, skb->len);
	return bpf_redirect(1, 0);
}

/* IPv4 -> IPv6 -> IPv4, room after the MAC and the network header, errnos. */
SEC("tc")
int tc_proto_room(struct __sk_buff *skb)
{
	put(0, bpf_skb_change_proto(skb, 0xdd86, 0));
	put(1, skb->len);
	put(2, skb->protocol);
	put(3, bpf_skb_change_proto(skb, 0xdd86, 0));
	put(4, bpf_skb_change_proto(skb, 0x0008, 1));
	put(5, bpf_skb_change_proto(skb, 0x0008, 0));
	put(6, skb->len);
	put(7, bpf_skb_adjust_room(skb, 8, 0, 0));
	put(8, skb->len);
	put(9, bpf_skb_adjust_room(skb, 4, 1, 0));
	put(10, bpf_skb_adjust_room(skb, -4, 1, 0));
	put(11, bpf_skb_adjust_room(skb, -8, 0, 0));
	put(12, skb->len);
	put(13, bpf_skb_adjust_room(skb, 0x1000, 0, 0));
	put(14, bpf_skb_adjust_room(skb, 4, 2, 0));
	put(15, bpf_skb_adjust_room(skb, 4, 0, 1ULL << 12));
	put(16, bpf_skb_adjust_room(skb, -30, 0, 0));
	put(17, bpf_skb_adjust_room(skb, 4, 0, 128));
	put(18, bpf_skb_adjust_room(skb, -4, 1, 384));
	put(19, bpf_skb_adjust_room(skb, -20, 1, 0));
	put(20, skb->len);
	return 0;
}

/* ECN marking and MTU checks on the loopback device (MTU 65536). */
SEC("tc")
int tc_ecn_mtu(struct __sk_buff *skb)
{
	__u32 mtu = 0;

	put(0, bpf_skb_ecn_set_ce(skb));
	put(1, bpf_skb_ecn_set_ce(skb));
	put(2, bpf_check_mtu(skb, 0, &mtu, 0, 0));
	put(3, mtu);
	mtu = 0;
	put(4, bpf_check_mtu(skb, 0, &mtu, 70000, 0));
	mtu = 65537;
	put(5, bpf_check_mtu(skb, 1, &mtu, 0, 0));
	mtu = 0;
	put(6, bpf_check_mtu(skb, 0x7fffffff, &mtu, 0, 0));
	put(7, mtu);
	mtu = 0;
	put(8, bpf_check_mtu(skb, 0, &mtu, 4, 1));
	put(9, bpf_check_mtu(skb, 0, &mtu, 0, 2));
	return 0;
}

SEC("xdp")
int xdp_mtu(struct xdp_md *ctx)
{
	__u32 mtu = 0;

	put(0, bpf_check_mtu(ctx, 0, &mtu, 0, 0));
	put(1, mtu);
	mtu = 65600;
	put(2, bpf_check_mtu(ctx, 0, &mtu, 0, 0));
	mtu = 0;
	put(3, bpf_check_mtu(ctx, 0, &mtu, 0, 1));
	put(4, mtu);
	put(5, bpf_csum_diff(0, 0, 0, 0, 77));
	return XDP_PASS;
}

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	__u32 buf = 0, v = 0xbeef;
	void *data, *meta;

	put(0, bpf_xdp_adjust_meta(ctx, -8));
	put(1, bpf_xdp_adjust_meta(ctx, -3));
	put(2, bpf_xdp_adjust_meta(ctx, -1000));
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + 8 > data)
		return XDP_ABORTED;
	*(__u32 *)meta = 0xdeadbeef;
	put(3, bpf_xdp_adjust_head(ctx, -4));
	put(4, ctx->data - ctx->data_meta);
	put(5, bpf_xdp_adjust_head(ctx, 1000));
	put(6, bpf_xdp_adjust_head(ctx, -300));
	put(7, bpf_xdp_adjust_tail(ctx, 6));
	put(8, bpf_xdp_adjust_tail(ctx, -1000));
	put(9, bpf_xdp_adjust_tail(ctx, 4000));
	put(10, bpf_xdp_get_buff_len(ctx));
	put(11, bpf_xdp_load_bytes(ctx, 4, &buf, 4));
	put(12, buf);
	put(13, bpf_xdp_store_bytes(ctx, 2, &v, 2));
	put(14, bpf_xdp_load_bytes(ctx, 0x10000, &buf, 4));
	put(15, bpf_xdp_load_bytes(ctx, 100, &buf, 4));
	put(16, ctx->data_end - ctx->data);
	put(17, bpf_redirect(1, 1));
	put(18, bpf_xdp_adjust_meta(ctx, 8));
	put(19, bpf_xdp_adjust_meta(ctx, -256));
	put(20, bpf_xdp_adjust_head(ctx, -(256 - 40 - 4)));
	put(21, bpf_xdp_adjust_tail(ctx, 3776 - 40 - 30));
	put(22, bpf_xdp_get_buff_len(ctx));
	return bpf_redirect(7, 0);
}

/* bpf_fib_lookup with the struct bpf_fib_lookup in the packet's first 64 bytes and the
 * flags in the next 4; the struct is written back so the packet shows what the helper
 * filled in. */
struct fib_params {
	__u8 bytes[64];
};

SEC("tc")
int tc_fib(struct __sk_buff *skb)
{
	struct fib_params p;
	__u32 flags;

	if (bpf_skb_load_bytes(skb, 0, &p, sizeof(p)) || bpf_skb_load_bytes(skb, 64, &flags, 4))
		return 2;
	put(0, bpf_fib_lookup(skb, &p, sizeof(p), flags));
	put(1, bpf_fib_lookup(skb, &p, sizeof(p) - 1, flags));
	bpf_skb_store_bytes(skb, 0, &p, sizeof(p), 0);
	return 0;
}

SEC("xdp")
int xdp_fib(struct xdp_md *ctx)
{
	struct fib_params p;
	__u32 flags;

	if (bpf_xdp_load_bytes(ctx, 0, &p, sizeof(p)) || bpf_xdp_load_bytes(ctx, 64, &flags, 4))
		return XDP_ABORTED;
	put(0, bpf_fib_lookup(ctx, &p, sizeof(p), flags));
	bpf_xdp_store_bytes(ctx, 0, &p, sizeof(p));
	return XDP_PASS;
}

struct tunnel_key {
	__u32 tunnel_id;
	__u32 remote_ipv6[4];
	__u8 tunnel_tos;
	__u8 tunnel_ttl;
	__u16 tunnel_ext;
	__u32 tunnel_label;
	__u32 local_ipv6[4];
};

/* Tunnel metadata: none in a test run; set for transmit, read back (remote and local
 * swap: get reports a received packet's view). */
SEC("tc")
int tc_tunnel(struct __sk_buff *skb)
{
	struct tunnel_key k = { 42, { 0x0a000002 }, 4, 64, 0, 0, { 0x0a000001 } };
	struct tunnel_key g = {};

	put(0, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 0));
	put(1, bpf_skb_set_tunnel_key(skb, &k, sizeof(k), 0));
	put(2, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 0));
	put(3, g.tunnel_id);
	put(4, g.remote_ipv6[0]);
	put(5, g.local_ipv6[0]);
	put(6, ((__u64)g.tunnel_tos << 8) | g.tunnel_ttl);
	put(7, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 1));
	put(8, g.tunnel_id);
	put(9, bpf_skb_get_tunnel_key(skb, &g, 8, 0));
	put(10, bpf_skb_get_tunnel_key(skb, &g, 30, 0));
	k.tunnel_label = 5;
	put(11, bpf_skb_set_tunnel_key(skb, &k, sizeof(k), 0));
	put(12, bpf_skb_set_tunnel_key(skb, &k, sizeof(k), 1 << 7));
	put(13, bpf_skb_set_tunnel_key(skb, &k, 30, 1));
	k.tunnel_label = 0x123456;
	k.remote_ipv6[3] = 7;
	put(14, bpf_skb_set_tunnel_key(skb, &k, sizeof(k), 1 | 4));
	put(15, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 1));
	put(16, g.tunnel_label);
	put(17, g.local_ipv6[3]);
	put(18, g.remote_ipv6[0]);
	put(19, bpf_skb_get_tunnel_key(skb, &g, 8, 1));
	put(20, bpf_skb_set_tunnel_key(skb, &k, 8, 0));
	put(21, bpf_skb_get_tunnel_key(skb, &g, sizeof(g), 0));
	put(22, g.local_ipv6[0]);
	return 0;
}

/* Socket lookups by the packet's IPv4 4-tuple. */
SEC("tc")
int tc_sk_lookup(struct __sk_buff *skb)
{
	struct tuple4 t;
	struct bpf_sock *sk;

	if (bpf_skb_load_bytes(skb, 26, &t, sizeof(t)))
		return 2;
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t), -1, 0);
	if (sk) {
		put(0, 1);
		put(1, sk->family);
		put(2, sk->state);
		put(3, sk->src_port);
		put(4, sk->dst_port);
		put(5, sk->src_ip4);
		put(6, sk->dst_ip4);
		put(7, sk->type);
		bpf_sk_release(sk);
	}
	sk = bpf_sk_lookup_udp(skb, &t, sizeof(t), -1, 0);
	if (sk) {
		put(8, sk->protocol);
		put(9, sk->mark);
		bpf_sk_release(sk);
	}
	sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t), -1, 0);
	if (sk) {
		put(10, sk->src_port);
		bpf_sk_release(sk);
	}
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t) - 1, -1, 0);
	put(11, sk != 0);
	if (sk)
		bpf_sk_release(sk);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t), -1, 1);
	put(12, sk != 0);
	if (sk)
		bpf_sk_release(sk);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t), 0x7fffffff, 0);
	put(13, sk != 0);
	if (sk)
		bpf_sk_release(sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
