//! The test-file format: one TOML file names a program and its cases.
//!
//! See the crate documentation for an example and `docs/unit-testing.md` for the details.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A map key or value: an integer (little-endian in the field's size) or hex bytes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer, written little-endian in the field's size (range-checked).
    Int(i64),
    /// Hex bytes, exactly the field's size (`ret`: the return value's meaning, `XDP_PASS`).
    Hex(String),
}

/// A map value: one value, or one per CPU for per-CPU maps.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum MapValue {
    /// One value (per-CPU maps: the value on the CPU `env.cpu` names).
    One(Scalar),
    /// One value per CPU.
    PerCpu(Vec<Scalar>),
}

/// Map entries as the file lists them: `[[key, value], ...]`.
pub type Entries = Vec<(Scalar, MapValue)>;

/// A whole test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Object file, relative to the test file.
    pub object: Option<PathBuf>,
    /// Program name or section in the object.
    pub program: Option<String>,
    /// Assembly file, relative to the test file.
    pub asm: Option<PathBuf>,
    /// Dialect of the assembly file (`llvm`, the default, or `ubpf`).
    pub dialect: Option<String>,
    /// Program type of the assembly file.
    #[serde(rename = "type")]
    pub prog_type: Option<String>,
    /// Maps for the assembly program, in index order (`[[map]]`).
    #[serde(default, rename = "map")]
    pub map_defs: Vec<MapDecl>,
    /// Initial map contents for every case.
    #[serde(default)]
    pub maps: BTreeMap<String, Entries>,
    /// Program arrays: index → program name.
    #[serde(default)]
    pub tail_calls: BTreeMap<String, Vec<(u32, String)>>,
    /// Environment for every case.
    #[serde(default)]
    pub env: EnvDecl,
    /// The cases (`[[case]]`).
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

/// A `[[map]]` of an assembly program.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapDecl {
    /// Its name.
    pub name: String,
    /// Its type (`hash`, `array`, ...).
    #[serde(rename = "type")]
    pub map_type: String,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// `map_flags`.
    #[serde(default)]
    pub flags: u32,
}

/// The environment the program sees (task, clock, CPU, skb fields); the VM only.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct EnvDecl {
    pub pid: Option<u32>,
    pub tgid: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub comm: Option<String>,
    pub cpu: Option<u32>,
    pub ncpus: Option<u32>,
    pub ktime_ns: Option<u64>,
    pub mark: Option<u32>,
    pub priority: Option<u32>,
    pub ingress_ifindex: Option<u32>,
    pub ifindex: Option<u32>,
    pub hash: Option<u32>,
    pub vlan_tci: Option<u32>,
    pub rx_queue_index: Option<u32>,
    /// `skb->ip_summed`: `none`, `unnecessary`, `complete`, `partial`.
    pub ip_summed: Option<String>,
    /// `skb->csum` (with `ip_summed = "complete"`).
    pub csum: Option<u32>,
    /// `skb->csum_level` (with `ip_summed = "unnecessary"`).
    pub csum_level: Option<u8>,
    /// The flow hash `bpf_get_hash_recalc` computes (the kernel's is keyed randomly).
    pub flow_hash: Option<u32>,
    pub cgroup_classid: Option<u32>,
    pub route_realm: Option<u32>,
    pub socket_cookie: Option<u64>,
    /// The socket owner's uid; `-1`: no socket (`bpf_get_socket_uid` gives 65534).
    pub socket_uid: Option<i64>,
    /// The interfaces that exist (default: the loopback device, ifindex 1).
    pub interfaces: Option<Vec<InterfaceDecl>>,
    /// Routes for `bpf_fib_lookup`.
    pub routes: Option<Vec<RouteDecl>>,
    /// Resolved neighbours for `bpf_fib_lookup`.
    pub neighbours: Option<Vec<NeighbourDecl>>,
    /// Sockets for `bpf_sk_lookup_tcp/udp`, `bpf_skc_lookup_tcp`.
    pub sockets: Option<Vec<SocketDecl>>,
    pub current_task: Option<u64>,
    pub numa_node: Option<u32>,
    pub cgroup_path: Option<Vec<u64>>,
    pub func_ip: Option<u64>,
    pub attach_cookie: Option<u64>,
    pub tai_offset_ns: Option<u64>,
    pub hz: Option<u32>,
    pub kernel_stack: Option<Vec<u64>>,
    pub user_stack: Option<Vec<u64>>,
}

/// A socket of `env.sockets`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketDecl {
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Local `ADDRESS:PORT` (`0.0.0.0:80`, `[::]:80` bind every address).
    pub local: String,
    /// Remote `ADDRESS:PORT` of a connected socket.
    pub remote: Option<String>,
    /// `bpf_sock.state` (default: TCP 10, listening, or 1, established, when connected; UDP 7).
    pub state: Option<u32>,
    /// `SO_BINDTODEVICE` ifindex (default 0: any).
    #[serde(default)]
    pub bound_dev_if: u32,
    /// `SO_MARK`.
    #[serde(default)]
    pub mark: u32,
    /// `SO_PRIORITY`.
    #[serde(default)]
    pub priority: u32,
}

/// A route of `env.routes`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDecl {
    /// Destination prefix, `10.1.0.0/16`, `2001:db8::/32`.
    pub dst: String,
    /// Gateway address (default: directly connected).
    pub via: Option<String>,
    /// Output interface.
    pub ifindex: u32,
    /// `unicast` (default), `blackhole`, `unreachable`, `prohibit`, `local`.
    #[serde(rename = "type")]
    pub route_type: Option<String>,
    /// Metric (default 0).
    #[serde(default)]
    pub metric: u32,
    /// Table (default 254, main).
    pub table: Option<u32>,
    /// Preferred source address.
    pub src: Option<String>,
    /// Path MTU (default: the interface's).
    pub mtu: Option<u32>,
}

/// A neighbour of `env.neighbours`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighbourDecl {
    /// Its address.
    pub ip: String,
    /// The interface it is on.
    pub ifindex: u32,
    /// Its hardware address, hex.
    pub mac: String,
}

/// An interface of `env.interfaces`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceDecl {
    /// Its index.
    pub ifindex: u32,
    /// Its MTU (default 1500).
    #[serde(default = "default_mtu")]
    pub mtu: u32,
    /// Its hardware address, hex (default 00:00:00:00:00:00).
    pub mac: Option<String>,
    /// Whether forwarding is enabled on it (default true).
    #[serde(default = "yes")]
    pub forwarding: bool,
}

fn yes() -> bool {
    true
}

fn default_mtu() -> u32 {
    1500
}

impl EnvDecl {
    /// Whether any field is set.
    pub fn is_set(&self) -> bool {
        let EnvDecl {
            pid,
            tgid,
            uid,
            gid,
            comm,
            cpu,
            ncpus,
            ktime_ns,
            mark,
            priority,
            ingress_ifindex,
            ifindex,
            hash,
            vlan_tci,
            rx_queue_index,
            ip_summed,
            csum,
            csum_level,
            flow_hash,
            cgroup_classid,
            route_realm,
            socket_cookie,
            socket_uid,
            interfaces,
            routes,
            neighbours,
            sockets,
            current_task,
            numa_node,
            cgroup_path,
            func_ip,
            attach_cookie,
            tai_offset_ns,
            hz,
            kernel_stack,
            user_stack,
        } = self;
        pid.is_some()
            || tgid.is_some()
            || uid.is_some()
            || gid.is_some()
            || comm.is_some()
            || cpu.is_some()
            || ncpus.is_some()
            || ktime_ns.is_some()
            || mark.is_some()
            || priority.is_some()
            || ingress_ifindex.is_some()
            || ifindex.is_some()
            || hash.is_some()
            || vlan_tci.is_some()
            || rx_queue_index.is_some()
            || ip_summed.is_some()
            || csum.is_some()
            || csum_level.is_some()
            || flow_hash.is_some()
            || cgroup_classid.is_some()
            || route_realm.is_some()
            || socket_cookie.is_some()
            || socket_uid.is_some()
            || interfaces.is_some()
            || routes.is_some()
            || neighbours.is_some()
            || sockets.is_some()
            || current_task.is_some()
            || numa_node.is_some()
            || cgroup_path.is_some()
            || func_ip.is_some()
            || attach_cookie.is_some()
            || tai_offset_ns.is_some()
            || hz.is_some()
            || kernel_stack.is_some()
            || user_stack.is_some()
    }
}

/// One `[[case]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Its name (`file::name` for `--filter`).
    pub name: String,
    /// Program for this case (default: the file's).
    pub program: Option<String>,
    /// The packet, hex.
    pub packet: Option<String>,
    /// The packet, a file relative to the test file.
    pub packet_file: Option<PathBuf>,
    /// Raw context bytes (kprobe, tracepoint, raw tracepoint, syscall).
    pub ctx: Option<String>,
    /// kprobe: `struct pt_regs` registers by name (x86-64).
    #[serde(default)]
    pub regs: BTreeMap<String, u64>,
    /// Context fields by their uapi name (`op`, `remote_port`, `optlen` ...), written over
    /// `ctx` into the program type's structure (`asm::types::ctx`).
    #[serde(default)]
    pub ctx_fields: BTreeMap<String, u64>,
    /// Environment for this case (over the file's).
    #[serde(default)]
    pub env: EnvDecl,
    /// Map contents for this case (after the file's).
    #[serde(default)]
    pub maps: BTreeMap<String, Entries>,
    /// Global variables for this case.
    #[serde(default)]
    pub globals: BTreeMap<String, Scalar>,
    /// Records user space submits to each `user_ringbuf` map before the first run, hex,
    /// oldest first (what `bpf_user_ringbuf_drain` reads; the VM only).
    #[serde(default)]
    pub user_ringbuf: BTreeMap<String, Vec<String>>,
    /// Runs of the program (expectations are checked after the last).
    #[serde(default = "one")]
    pub repeat: u32,
    /// After each run, advance the VM clock by this many nanoseconds, running the callbacks
    /// of BPF timers that expire (VM only).
    pub advance_ns: Option<u64>,
    /// What the run must produce.
    #[serde(default)]
    pub expect: Expect,
}

fn one() -> u32 {
    1
}

/// A case's expectations; what is not given is not checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The return value (32 bits, as `BPF_PROG_TEST_RUN` reports), or its meaning.
    pub ret: Option<Scalar>,
    /// The packet after the run, hex.
    pub packet: Option<String>,
    /// `bpf_trace_printk` lines, all runs.
    pub trace: Option<Vec<String>>,
    /// Ring buffer records per map, hex, all runs.
    #[serde(default)]
    pub ringbuf: BTreeMap<String, Vec<String>>,
    /// Map contents after the run (hash maps: exactly these entries).
    #[serde(default)]
    pub maps: BTreeMap<String, Entries>,
    /// Global variables after the run.
    #[serde(default)]
    pub globals: BTreeMap<String, Scalar>,
    /// Instructions executed by the last run.
    pub insns: Option<u64>,
    /// Where the last run sent packets (the VM only): `bpf_clone_redirect` copies, then
    /// the redirect set up last, as `redirect to ifindex 1 ingress`.
    pub redirects: Option<Vec<String>>,
    /// The run fails with an error containing this (the VM only).
    pub error: Option<String>,
}

impl TestFile {
    /// Parses a test file's text; errors say `line:col: message`.
    pub fn parse(text: &str) -> Result<TestFile, String> {
        toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let col = s.start - text[..s.start].rfind('\n').map_or(0, |n| n + 1) + 1;
                    format!("{line}:{col}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })
    }
}

/// `struct pt_regs` on x86-64 (`arch/x86/include/asm/ptrace.h`): register → byte offset.
pub const PT_REGS: &[(&str, usize)] = &[
    ("r15", 0),
    ("r14", 8),
    ("r13", 16),
    ("r12", 24),
    ("bp", 32),
    ("bx", 40),
    ("r11", 48),
    ("r10", 56),
    ("r9", 64),
    ("r8", 72),
    ("ax", 80),
    ("cx", 88),
    ("dx", 96),
    ("si", 104),
    ("di", 112),
    ("orig_ax", 120),
    ("ip", 128),
    ("cs", 136),
    ("flags", 144),
    ("sp", 152),
    ("ss", 160),
];

/// Writes context fields by name into `ctx` (grown to the structure's size), at the
/// offsets `asm::types::ctx` gives for `prog_type`: little-endian, the field's length.
pub fn write_ctx_fields(
    ctx: &mut Vec<u8>,
    prog_type: Option<asm::types::ProgType>,
    fields: &BTreeMap<String, u64>,
) -> Result<(), String> {
    let t = prog_type.ok_or("`ctx_fields` needs a program type")?;
    let layout = asm::types::ctx::layout(t)
        .ok_or_else(|| format!("`ctx_fields`: {t} programs have no context table"))?;
    ctx.resize(ctx.len().max(layout.size as usize), 0);
    for (name, &v) in fields {
        let f = layout.field(name).ok_or_else(|| {
            let mut known: Vec<_> = layout.fields.iter().map(|f| f.name).collect();
            known.dedup();
            format!(
                "`ctx_fields`: {} has no field `{name}` (known: {})",
                layout.name,
                known.join(", ")
            )
        })?;
        if f.kind.is_pointer() {
            return Err(format!(
                "`ctx_fields`: `{name}` is a pointer the run sets, not an input"
            ));
        }
        let len = f.len as usize;
        if len > 8 {
            return Err(format!(
                "`ctx_fields`: `{name}` is {len} bytes; give it in `ctx` (hex)"
            ));
        }
        if len < 8 && v >> (8 * len) != 0 {
            return Err(format!(
                "`ctx_fields`: {v:#x} does not fit `{name}` ({len} bytes)"
            ));
        }
        let off = f.off as usize;
        ctx[off..off + len].copy_from_slice(&v.to_le_bytes()[..len]);
    }
    Ok(())
}

/// The size of `struct pt_regs` on x86-64.
pub const PT_REGS_SIZE: usize = 168;

/// Writes `regs` into a `struct pt_regs` at the start of `ctx` (grown to hold it).
pub fn write_pt_regs(ctx: &mut Vec<u8>, regs: &BTreeMap<String, u64>) -> Result<(), String> {
    ctx.resize(ctx.len().max(PT_REGS_SIZE), 0);
    for (reg, v) in regs {
        let off = PT_REGS
            .iter()
            .find(|(n, _)| n == reg)
            .map(|(_, o)| *o)
            .ok_or_else(|| {
                format!(
                    "unknown pt_regs register `{reg}` (known: {})",
                    PT_REGS.iter().map(|r| r.0).collect::<Vec<_>>().join(", ")
                )
            })?;
        ctx[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// Lower-case hex, no separators.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex bytes; whitespace and `_` between them are ignored.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    if let Some(bad) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("`{bad}` is not a hex digit in {s:?}"));
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}) in {s:?}",
            digits.len()
        ));
    }
    Ok(digits
        .chunks(2)
        .map(|p| u8::from_str_radix(&p.iter().collect::<String>(), 16).expect("checked hex digits"))
        .collect())
}

/// Bytes as the test file would write them: an integer up to 8 bytes, else hex.
pub fn show(b: &[u8]) -> String {
    if matches!(b.len(), 1 | 2 | 4 | 8) {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w).to_string()
    } else {
        format!("\"{}\"", hex(b))
    }
}

/// A scalar as `size` bytes: integers little-endian (range-checked), hex exactly `size`.
pub fn encode(s: &Scalar, size: usize, what: &str) -> Result<Vec<u8>, String> {
    match s {
        Scalar::Int(n) => {
            if !matches!(size, 1 | 2 | 4 | 8) {
                return Err(format!(
                    "{what} is {size} bytes: write it as a hex string, not an integer"
                ));
            }
            let bits = size as u32 * 8;
            let fits = if bits == 64 {
                true
            } else {
                let n = i128::from(*n);
                n >= -(1i128 << (bits - 1)) && n < (1i128 << bits)
            };
            if !fits {
                return Err(format!("{what}: {n} does not fit in {size} bytes"));
            }
            Ok(n.to_le_bytes()[..size].to_vec())
        }
        Scalar::Hex(h) => {
            let b = parse_hex(h).map_err(|e| format!("{what}: {e}"))?;
            if b.len() != size {
                return Err(format!(
                    "{what}: {} bytes of hex, but it is {size} bytes",
                    b.len()
                ));
            }
            Ok(b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_range_checked() {
        assert_eq!(encode(&Scalar::Int(-1), 2, "k").unwrap(), [0xff, 0xff]);
        assert_eq!(encode(&Scalar::Int(65535), 2, "k").unwrap(), [0xff, 0xff]);
        assert!(encode(&Scalar::Int(65536), 2, "k")
            .unwrap_err()
            .contains("does not fit in 2 bytes"));
        assert!(encode(&Scalar::Int(1), 3, "k")
            .unwrap_err()
            .contains("hex string"));
        assert_eq!(
            encode(&Scalar::Hex("01 02 03".into()), 3, "k").unwrap(),
            [1, 2, 3]
        );
        assert!(encode(&Scalar::Hex("0102".into()), 3, "k")
            .unwrap_err()
            .contains("2 bytes of hex"));
        assert!(parse_hex("0g").unwrap_err().contains("`g`"));
        assert!(parse_hex("012").unwrap_err().contains("odd"));
        assert_eq!(show(&[5, 0, 0, 0]), "5");
        assert_eq!(show(&[1, 2, 3]), "\"010203\"");
    }

    #[test]
    fn parses_a_file_and_reports_positions() {
        let f = TestFile::parse(
            "asm = \"a.s\"\ntype = \"xdp\"\n[[case]]\nname = \"c\"\npacket = \"00 11\"\nexpect.ret = \"XDP_PASS\"\n",
        )
        .unwrap();
        assert_eq!(f.cases.len(), 1);
        assert_eq!(f.cases[0].repeat, 1);
        assert_eq!(f.cases[0].expect.ret, Some(Scalar::Hex("XDP_PASS".into())));
        let e = TestFile::parse("asm = \"a.s\"\nprogramme = 1\n").unwrap_err();
        assert!(e.starts_with("2:1: unknown field `programme`"), "{e}");
    }

    #[test]
    fn pt_regs_by_name() {
        let mut ctx = Vec::new();
        let regs = BTreeMap::from([("di".to_string(), 7u64)]);
        write_pt_regs(&mut ctx, &regs).unwrap();
        assert_eq!(ctx.len(), PT_REGS_SIZE);
        assert_eq!(ctx[112], 7);
        let bad = BTreeMap::from([("rax".to_string(), 1u64)]);
        assert!(write_pt_regs(&mut ctx, &bad)
            .unwrap_err()
            .contains("unknown pt_regs register `rax`"));
    }

    #[test]
    fn ctx_fields_by_name() {
        use asm::types::ProgType;
        let mut ctx = Vec::new();
        let f = BTreeMap::from([("reply".to_string(), 7), ("op".to_string(), 2)]);
        write_ctx_fields(&mut ctx, Some(ProgType::SockOps), &f).unwrap();
        assert_eq!(ctx.len(), 224);
        assert_eq!((ctx[0], ctx[4]), (2, 7));
        let bad = |name: &str, v: u64| {
            let f = BTreeMap::from([(name.to_string(), v)]);
            write_ctx_fields(&mut Vec::new(), Some(ProgType::SockOps), &f).unwrap_err()
        };
        assert!(bad("nope", 1).contains("no field `nope`"));
        assert!(bad("sk", 1).contains("pointer"));
        assert!(bad("remote_ip6", 1).contains("16 bytes"));
        assert!(bad("op", 1 << 32).contains("does not fit"));
        assert!(write_ctx_fields(&mut Vec::new(), None, &f).is_err());
    }
}
