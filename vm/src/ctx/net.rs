//! The network a packet program runs in, as a test declares it, and what the program asked
//! the kernel to do with its packet (redirects), as the VM records it.
//!
//! The kernel's `BPF_PROG_TEST_RUN` gives tc programs an skb on the loopback device of the
//! caller's network namespace, with `ip_summed = CHECKSUM_NONE`, no socket, no route and no
//! tunnel metadata; XDP programs get a 4096-byte frame with 256 bytes of headroom. The
//! defaults here are that, so a program agrees with the kernel unless a test says otherwise.

/// `skb->ip_summed` (`include/linux/skbuff.h`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpSummed {
    /// `CHECKSUM_NONE` (what test_run gives).
    #[default]
    None,
    /// `CHECKSUM_UNNECESSARY` (`csum_level` counts verified checksums).
    Unnecessary,
    /// `CHECKSUM_COMPLETE` (`skb->csum` holds the sum of the packet).
    Complete,
    /// `CHECKSUM_PARTIAL` (the device finishes the checksum).
    Partial,
}

/// A network interface the test declares (for redirects, `fib_lookup`, `check_mtu`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// `ifindex`.
    pub ifindex: u32,
    /// MTU.
    pub mtu: u32,
    /// Hardware address.
    pub mac: [u8; 6],
    /// Whether IPv4/IPv6 forwarding is enabled on it (`bpf_fib_lookup` answers
    /// `BPF_FIB_LKUP_RET_FWD_DISABLED` otherwise).
    pub forwarding: bool,
}

/// What a route does with a packet (`RTN_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteType {
    /// Forward it (`RTN_UNICAST`).
    #[default]
    Unicast,
    /// Drop it silently (`RTN_BLACKHOLE`).
    Blackhole,
    /// Drop it, host unreachable (`RTN_UNREACHABLE`).
    Unreachable,
    /// Drop it, administratively prohibited (`RTN_PROHIBIT`).
    Prohibit,
    /// Deliver it locally (`RTN_LOCAL`): not forwarded.
    Local,
}

/// A route of a routing table the test declares (`bpf_fib_lookup`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix (an IPv4 or IPv6 address).
    pub dst: std::net::IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Next hop (`None`: directly connected).
    pub via: Option<std::net::IpAddr>,
    /// Output interface.
    pub ifindex: u32,
    /// What it does.
    pub route_type: RouteType,
    /// Metric (`rt_metric`; the lowest wins among equal prefixes).
    pub metric: u32,
    /// Routing table (`RT_TABLE_MAIN` is 254).
    pub table: u32,
    /// Preferred source address (`BPF_FIB_LOOKUP_SRC`).
    pub src: Option<std::net::IpAddr>,
    /// Path MTU of the route (`None`: the device's).
    pub mtu: Option<u32>,
}

/// A resolved neighbour (`NUD_VALID`): an address's hardware address on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    /// Its address.
    pub ip: std::net::IpAddr,
    /// The interface it is on.
    pub ifindex: u32,
    /// Its hardware address.
    pub mac: [u8; 6],
}

/// Tunnel metadata attached to the skb (`struct ip_tunnel_info`): what a tunnel device
/// recorded on receive, or what `bpf_skb_set_tunnel_key` set for transmit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelKey {
    /// An IPv6 tunnel (`IP_TUNNEL_INFO_IPV6`).
    pub ipv6: bool,
    /// `key.tun_id`, host order.
    pub id: u64,
    /// Outer source address as its bytes (IPv4: the first 4).
    pub src: [u8; 16],
    /// Outer destination address as its bytes (IPv4: the first 4).
    pub dst: [u8; 16],
    /// Outer TOS.
    pub tos: u8,
    /// Outer TTL.
    pub ttl: u8,
    /// IPv6 flow label (20 bits).
    pub label: u32,
}

/// The network environment of a packet program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEnv {
    /// `skb->ip_summed` at the start of a run.
    pub ip_summed: IpSummed,
    /// `skb->csum` when `ip_summed` is `Complete`.
    pub csum: u32,
    /// `skb->csum_level` when `ip_summed` is `Unnecessary` (0–3).
    pub csum_level: u8,
    /// The flow hash the kernel would compute for this packet (`skb_get_hash`): it is
    /// keyed with a boot-time random secret, so a test states it.
    pub flow_hash: u32,
    /// The socket's cgroup net_cls class id (`bpf_get_cgroup_classid`; 0 without one).
    pub cgroup_classid: u32,
    /// The route's realm (`bpf_get_route_realm`; 0 without a route).
    pub route_realm: u32,
    /// The socket cookie (`bpf_get_socket_cookie`; 0 without a socket).
    pub socket_cookie: u64,
    /// The socket owner's uid (`bpf_get_socket_uid`); `None`: no socket, which the kernel
    /// reports as the overflow uid 65534. test_run's skb has a socket of uid 0.
    pub socket_uid: Option<u32>,
    /// Tunnel metadata on the skb (`None`: none, as in test_run).
    pub tunnel: Option<TunnelKey>,
    /// Interfaces that exist (ifindex 1 is the loopback device, as in any namespace).
    pub interfaces: Vec<Interface>,
    /// Routes, every table.
    pub routes: Vec<Route>,
    /// Resolved neighbours.
    pub neighbours: Vec<Neighbour>,
    /// Sockets in the namespace (`bpf_sk_lookup_*`).
    pub sockets: Vec<Socket>,
}

/// A socket the test declares for `bpf_sk_lookup_tcp/udp`, `bpf_skc_lookup_tcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    /// `IPPROTO_TCP` (6) or `IPPROTO_UDP` (17).
    pub protocol: u8,
    /// Local address and port (an unspecified address is a wildcard bind).
    pub local: std::net::SocketAddr,
    /// Remote address and port of a connected socket.
    pub remote: Option<std::net::SocketAddr>,
    /// TCP state as `bpf_sock.state` shows it (`BPF_TCP_LISTEN` = 10, ...); UDP: 7 (closed).
    pub state: u32,
    /// `SO_BINDTODEVICE` ifindex (0: any).
    pub bound_dev_if: u32,
    /// `SO_MARK`.
    pub mark: u32,
    /// `SO_PRIORITY`.
    pub priority: u32,
}

impl Default for NetEnv {
    fn default() -> NetEnv {
        NetEnv {
            ip_summed: IpSummed::None,
            csum: 0,
            csum_level: 0,
            flow_hash: 0,
            cgroup_classid: 0,
            route_realm: 0,
            socket_cookie: 0,
            socket_uid: Some(0),
            tunnel: None,
            interfaces: vec![Interface {
                ifindex: 1,
                mtu: 65536,
                mac: [0; 6],
                // The kernel's default: net.ipv4.conf.all.forwarding = 0.
                forwarding: false,
            }],
            routes: Vec::new(),
            neighbours: Vec::new(),
            sockets: Vec::new(),
        }
    }
}

impl NetEnv {
    /// The interface with this index.
    pub fn interface(&self, ifindex: u32) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.ifindex == ifindex)
    }
}

/// How a redirect was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    /// `bpf_redirect(ifindex, flags)`.
    Ifindex,
    /// `bpf_redirect_peer`: to the peer of a veth/netkit device, on ingress.
    Peer,
    /// `bpf_redirect_neigh`: through the neighbour subsystem, with the next hop if given
    /// (`struct bpf_redir_neigh` bytes).
    Neigh {
        /// The `struct bpf_redir_neigh` the program passed (`None`: look up the route).
        nexthop: Option<Vec<u8>>,
    },
    /// `bpf_redirect_map`: an entry of a devmap, cpumap or xskmap.
    Map {
        /// The map's index.
        map: u32,
    },
    /// `bpf_clone_redirect`: a copy of the packet went out now; the program went on.
    Clone,
}

/// A redirect the program set up: what the kernel would do after the program returns
/// `XDP_REDIRECT`/`TC_ACT_REDIRECT` (or, for a clone, did at once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// How it was asked for.
    pub kind: RedirectKind,
    /// The target ifindex (a map's key for [`RedirectKind::Map`]).
    pub target: u32,
    /// The flags as the kernel keeps them (`BPF_F_INGRESS`, `BPF_F_BROADCAST` ...).
    pub flags: u64,
}

impl Redirect {
    /// Whether the packet goes to the target's ingress (receive) path.
    pub fn ingress(&self) -> bool {
        const BPF_F_INGRESS: u64 = 1;
        matches!(self.kind, RedirectKind::Peer)
            || (matches!(self.kind, RedirectKind::Ifindex | RedirectKind::Clone)
                && self.flags & BPF_F_INGRESS != 0)
    }
}

impl std::fmt::Display for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = if self.ingress() { "ingress" } else { "egress" };
        match &self.kind {
            RedirectKind::Ifindex => write!(f, "redirect to ifindex {} {dir}", self.target)?,
            RedirectKind::Peer => write!(f, "redirect to the peer of ifindex {}", self.target)?,
            RedirectKind::Neigh { nexthop } => write!(
                f,
                "redirect to ifindex {} through the neighbour {}",
                self.target,
                if nexthop.is_some() {
                    "of the given next hop"
                } else {
                    "of the route"
                }
            )?,
            RedirectKind::Map { map } => write!(f, "redirect to key {} of map {map}", self.target)?,
            RedirectKind::Clone => write!(f, "clone to ifindex {} {dir}", self.target)?,
        }
        // BPF_F_INGRESS is said as the direction.
        let flags = match self.kind {
            RedirectKind::Ifindex | RedirectKind::Clone => self.flags & !1,
            _ => self.flags,
        };
        if flags != 0 {
            write!(f, " (flags {flags:#x})")?;
        }
        Ok(())
    }
}
