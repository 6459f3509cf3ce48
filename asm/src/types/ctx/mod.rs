//! The context of every program type as data: the uapi structure's fields (name, offset,
//! length) with the access sizes a program may read and write each with, the attach types
//! that open a field, and the register type a read yields. The tables restate the kernel's
//! `*_is_valid_access` functions (net/core/filter.c, kernel/bpf/cgroup.c,
//! kernel/trace/bpf_trace.c, kernel/bpf/syscall.c) for Linux 6.18 on x86-64; the verifier's
//! context checks and the VM's context memory both read them.
//!
//! Every function starts with the same two checks, which [`Layout::access`] makes for all:
//! the offset lies inside the structure and is a multiple of the access size
//! (`off % size != 0` is refused). Then the access is valid when one [`Field`] containing
//! `off` admits the size (and the access ends inside the field); fields may overlap, which
//! is how rules such as "a 2-byte port may also be read as 4 bytes" are written.

mod skb;
mod sock;
mod trace;

pub use skb::FLOW_KEYS;

use super::{AttachType, ProgType};

/// A set of access sizes (1, 2, 4, 8 bytes) as a bit mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes(u8);

impl Sizes {
    /// No access.
    pub const NONE: Sizes = Sizes(0);
    /// Exactly 4 bytes (`size == size_default`).
    pub const W: Sizes = Sizes(4);
    /// Exactly 8 bytes (pointers, `__u64` fields).
    pub const DW: Sizes = Sizes(8);
    /// 1, 2 or 4 bytes: `bpf_ctx_narrow_access_ok(off, size, sizeof(__u32))`.
    pub const NARROW: Sizes = Sizes(1 | 2 | 4);
    /// 1 or 2 bytes: `bpf_ctx_narrow_access_ok(off, size, sizeof(__u16))`.
    pub const NARROW16: Sizes = Sizes(1 | 2);
    /// 2 or 4 bytes (`sk_reuseport_md.eth_protocol`: at least `sizeof(skb->protocol)`).
    pub const HW: Sizes = Sizes(2 | 4);
    /// Any size (1, 2, 4, 8).
    pub const ANY: Sizes = Sizes(1 | 2 | 4 | 8);

    /// Whether `size` bytes is in the set.
    pub const fn has(self, size: u32) -> bool {
        matches!(size, 1 | 2 | 4 | 8) && self.0 & size as u8 != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What a read of a field yields (`info->reg_type` in `*_is_valid_access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number (`SCALAR_VALUE`), the bytes of the context.
    Scalar,
    /// `PTR_TO_PACKET`: the start of the packet (or sockopt's `optval`).
    Packet,
    /// `PTR_TO_PACKET_END`.
    PacketEnd,
    /// `PTR_TO_PACKET_META`.
    PacketMeta,
    /// `PTR_TO_SOCKET`.
    Socket,
    /// `PTR_TO_SOCKET_OR_NULL`.
    SocketOrNull,
    /// `PTR_TO_SOCK_COMMON_OR_NULL`.
    SockCommonOrNull,
    /// `PTR_TO_FLOW_KEYS`: the `struct bpf_flow_keys` the program fills.
    FlowKeys,
    /// `PTR_TO_TP_BUFFER` (writable raw tracepoints' argument 0).
    TpBuffer,
    /// A pointer to a kernel structure described by BTF (`PTR_TO_BTF_ID`).
    Btf,
}

impl Kind {
    /// Whether a read yields a pointer the kernel synthesises (not the context's bytes).
    pub const fn is_pointer(self) -> bool {
        !matches!(self, Kind::Scalar)
    }
}

/// One field (or range of fields with the same rule) of a context structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The uapi name (`mark`, `remote_ip6`, `cb` ...).
    pub name: &'static str,
    /// Offset in the structure.
    pub off: u32,
    /// Length in bytes.
    pub len: u32,
    /// Sizes a load may have.
    pub read: Sizes,
    /// Sizes a store may have ([`Sizes::NONE`]: read-only).
    pub write: Sizes,
    /// What a load yields.
    pub kind: Kind,
    /// The field exists only for these expected attach types (empty: for all).
    pub only: &'static [AttachType],
    /// Stores are allowed only for these expected attach types (empty: for all).
    pub write_only: &'static [AttachType],
    /// Accesses must start at `off` (a `case offsetof(..)` in the kernel's switch rather
    /// than a `bpf_ctx_range(..)`): a narrow read of a later byte is refused.
    pub at_start: bool,
}

impl Field {
    /// A field read with `read`, never written.
    pub const fn ro(name: &'static str, off: u32, len: u32, read: Sizes) -> Field {
        Field {
            name,
            off,
            len,
            read,
            write: Sizes::NONE,
            kind: Kind::Scalar,
            only: &[],
            write_only: &[],
            at_start: false,
        }
    }

    /// A field read with `read` and written with `write`.
    pub const fn rw(name: &'static str, off: u32, len: u32, read: Sizes, write: Sizes) -> Field {
        Field {
            write,
            ..Field::ro(name, off, len, read)
        }
    }

    /// An 8-byte pointer field read whole.
    pub const fn ptr(name: &'static str, off: u32, kind: Kind) -> Field {
        Field {
            kind,
            ..Field::ro(name, off, 8, Sizes::DW)
        }
    }

    /// A 4-byte `__sk_buff`/`xdp_md` field that the kernel rewrites into a 64-bit pointer.
    pub const fn ptr32(name: &'static str, off: u32, kind: Kind) -> Field {
        Field {
            kind,
            ..Field::ro(name, off, 4, Sizes::W)
        }
    }

    /// The same field, present only for `only`.
    pub const fn only(self, only: &'static [AttachType]) -> Field {
        Field { only, ..self }
    }

    /// The same field, accessed at its first byte only.
    pub const fn at_start(self) -> Field {
        Field {
            at_start: true,
            ..self
        }
    }

    /// The same field, writable only for `write_only`.
    pub const fn write_only(self, write_only: &'static [AttachType]) -> Field {
        Field { write_only, ..self }
    }

    /// Whether an access of `size` bytes at `off` may use this field; `attach: None` with
    /// `any_attach` ignores the attach-type conditions.
    fn admits(
        &self,
        off: u32,
        size: u32,
        write: bool,
        attach: Option<AttachType>,
        any_attach: bool,
    ) -> bool {
        let allowed = |set: &[AttachType]| {
            any_attach || set.is_empty() || attach.is_some_and(|a| set.contains(&a))
        };
        off >= self.off
            && off + size <= self.off + self.len
            && (!self.at_start || off == self.off)
            && allowed(self.only)
            && if write {
                self.write.has(size) && allowed(self.write_only)
            } else {
                self.read.has(size)
            }
    }
}

/// A program type's context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The uapi structure (`__sk_buff`, `bpf_sock_ops` ...).
    pub name: &'static str,
    /// Its size: accesses start below it.
    pub size: u32,
    /// The fields; offsets no field covers are refused.
    pub fields: &'static [Field],
    /// Negative offsets are valid and use the first field: `tp_prog_is_valid_access`
    /// compares the signed offset with `sizeof(void *)`, an unsigned `size_t`, so a
    /// negative offset passes as a large number (measured on 6.18).
    pub negative_ok: bool,
}

/// What a valid access yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// The field accessed.
    pub field: &'static Field,
    /// What a load yields ([`Kind::Scalar`] for stores).
    pub kind: Kind,
}

impl Layout {
    /// The field an access of `size` bytes at `off` uses, or `None` when the kernel says
    /// "invalid bpf_context access". `attach` is the program's expected attach type.
    pub fn access(
        &'static self,
        off: i64,
        size: u32,
        write: bool,
        attach: Option<AttachType>,
    ) -> Option<Access> {
        self.find(off, size, write, attach, false)
    }

    /// [`Layout::access`] for a program loaded with whichever attach type opens the field:
    /// what a runtime that does not know the attach type (the VM, after the verifier has
    /// checked the program) may allow.
    pub fn access_any_attach(&'static self, off: i64, size: u32, write: bool) -> Option<Access> {
        self.find(off, size, write, None, true)
    }

    fn find(
        &'static self,
        off: i64,
        size: u32,
        write: bool,
        attach: Option<AttachType>,
        any_attach: bool,
    ) -> Option<Access> {
        if size == 0 || off % size as i64 != 0 {
            return None;
        }
        if off < 0 && self.negative_ok && matches!(size, 1 | 2 | 4 | 8) && !write {
            let field = self.fields.first()?;
            return Some(Access {
                field,
                kind: field.kind,
            });
        }
        if off < 0 || off >= self.size as i64 {
            return None;
        }
        let off = off as u32;
        let field = self
            .fields
            .iter()
            .find(|f| f.admits(off, size, write, attach, any_attach))?;
        Some(Access {
            field,
            kind: if write { Kind::Scalar } else { field.kind },
        })
    }

    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The pointer fields (what the VM synthesises on load).
    pub fn pointers(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().filter(|f| f.kind.is_pointer())
    }
}

/// The context layout of a program type, `None` for the types whose context is not a fixed
/// structure described here (`struct_ops`, `ext`, `lsm`: BTF-typed by the attach target).
pub fn layout(t: ProgType) -> Option<&'static Layout> {
    use ProgType::*;
    Some(match t {
        SocketFilter => &skb::SOCKET_FILTER,
        SchedCls | SchedAct => &skb::TC,
        CgroupSkb => &skb::CGROUP_SKB,
        LwtIn | LwtOut | LwtXmit | LwtSeg6local => &skb::LWT,
        SkSkb => &skb::SK_SKB,
        FlowDissector => &skb::FLOW_DISSECTOR,
        Xdp => &trace::XDP,
        CgroupSock => &sock::CGROUP_SOCK,
        CgroupSockAddr => &sock::SOCK_ADDR,
        SockOps => &sock::SOCK_OPS,
        SkMsg => &sock::SK_MSG,
        SkReuseport => &sock::SK_REUSEPORT,
        SkLookup => &sock::SK_LOOKUP,
        CgroupDevice => &sock::CGROUP_DEVICE,
        CgroupSysctl => &sock::CGROUP_SYSCTL,
        CgroupSockopt => &sock::CGROUP_SOCKOPT,
        Kprobe => &trace::KPROBE,
        Tracepoint => &trace::TRACEPOINT,
        PerfEvent => &trace::PERF_EVENT,
        RawTracepoint => &trace::RAW_TRACEPOINT,
        RawTracepointWritable => &trace::RAW_TRACEPOINT_WRITABLE,
        Tracing => &trace::TRACING,
        Syscall => &trace::SYSCALL,
        Netfilter => &trace::NETFILTER,
        _ => return None,
    })
}

/// The expected attach type the kernel gives a program loaded without one
/// (`bpf_prog_load_fixup_attach_type` in kernel/bpf/syscall.c): `cgroup_sock` programs
/// default to `BPF_CGROUP_INET_SOCK_CREATE`.
pub fn fixup_attach_type(t: ProgType, attach: Option<AttachType>) -> Option<AttachType> {
    match (t, attach) {
        (ProgType::CgroupSock, None | Some(AttachType::CgroupInetIngress)) => {
            Some(AttachType::CgroupInetSockCreate)
        }
        _ => attach,
    }
}

#[cfg(test)]
mod tests;
