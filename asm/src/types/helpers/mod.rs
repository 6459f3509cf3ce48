//! Every BPF helper of Linux 6.18 as data: id, name, prototype (`struct bpf_func_proto`:
//! return type, argument types with the kernel's type flags, `gpl_only`), the callback a
//! helper takes, and which program types may call it (the `*_func_proto` switches).
//!
//! One table for the assembler (names), the verifier (prototypes, availability, the GPL
//! rule), the VM (names) and `docs/helpers.md`.
//!
//! Where the rows come from:
//! - ids and names: 6.18's `enum bpf_func_id` (`bpftool btf dump file /sys/kernel/btf/vmlinux`);
//! - prototypes: the `struct bpf_func_proto` definitions of 6.1 (each row names the one it
//!   follows), with 6.2's `bpf_cgrp_storage_*`. A helper with one prototype per program
//!   family (`get_socket_cookie`, `getsockopt`, `fib_lookup` ...) lists the socket/skb one;
//! - program types: what 6.18 answers ("program of this type cannot use helper") for every
//!   type that loads without an attach target, measured on this kernel. `tracing`, `lsm`,
//!   `struct_ops` and `lirc_mode2` cannot be loaded here without a target or device; their
//!   sets follow 6.1's `tracing_prog_func_proto` (on top of raw_tp's set),
//!   `bpf_lsm_func_proto` (on top of tracing's), `bpf_tcp_ca_get_func_proto` and
//!   `lirc_mode2_func_proto` (on top of the helpers every measured type has). `ext`
//!   programs take their target's set, so no row lists `ext`.

mod build;
mod ids_106_211;
mod ids_1_105;

use crate::types::ProgType;

/// Base argument type (`enum bpf_arg_type` without its flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgBase {
    /// `ARG_ANYTHING`: any initialised value.
    Anything,
    /// `ARG_CONST_MAP_PTR`.
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: a key of the map argument.
    PtrToMapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: a value of the map argument.
    PtrToMapValue,
    /// `ARG_PTR_TO_MEM`: memory whose size is the next argument (or fixed, `MEM_FIXED_SIZE`).
    PtrToMem,
    /// `ARG_CONST_SIZE`: size of the previous memory argument, > 0.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`: size of the previous memory argument, >= 0.
    ConstSizeOrZero,
    /// `ARG_PTR_TO_CTX`.
    PtrToCtx,
    /// `ARG_PTR_TO_SPIN_LOCK`: a `bpf_spin_lock` in a map value.
    PtrToSpinLock,
    /// `ARG_PTR_TO_SOCK_COMMON`.
    PtrToSockCommon,
    /// `ARG_PTR_TO_SOCKET`.
    PtrToSocket,
    /// `ARG_PTR_TO_BTF_ID`: a pointer to the kernel struct named by [`ArgType::btf`].
    PtrToBtfId,
    /// `ARG_PTR_TO_ALLOC_MEM` (`ARG_PTR_TO_RINGBUF_MEM` in later kernels).
    PtrToRingbufMem,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`.
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_BTF_ID_SOCK_COMMON`: a `sock_common` by BTF or a `bpf_sock`.
    PtrToBtfIdSockCommon,
    /// `ARG_PTR_TO_PERCPU_BTF_ID`.
    PtrToPercpuBtfId,
    /// `ARG_PTR_TO_FUNC`: a BPF subprogram (the callback, see [`Callback`]).
    PtrToFunc,
    /// `ARG_PTR_TO_STACK`.
    PtrToStack,
    /// `ARG_PTR_TO_CONST_STR`: a NUL-terminated string in a read-only map value.
    PtrToConstStr,
    /// `ARG_PTR_TO_TIMER`: a `bpf_timer` in a map value.
    PtrToTimer,
    /// `ARG_PTR_TO_KPTR`.
    PtrToKptr,
    /// `ARG_PTR_TO_DYNPTR`.
    PtrToDynptr,
}

/// Base return type (`enum bpf_return_type` without its flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetBase {
    /// `RET_INTEGER`.
    Integer,
    /// `RET_VOID`.
    Void,
    /// `RET_PTR_TO_MAP_VALUE`.
    PtrToMapValue,
    /// `RET_PTR_TO_SOCKET`.
    PtrToSocket,
    /// `RET_PTR_TO_TCP_SOCK`.
    PtrToTcpSock,
    /// `RET_PTR_TO_SOCK_COMMON`.
    PtrToSockCommon,
    /// `RET_PTR_TO_ALLOC_MEM` / `RET_PTR_TO_MEM`: memory of the size argument.
    PtrToMem,
    /// `RET_PTR_TO_MEM_OR_BTF_ID`.
    PtrToMemOrBtfId,
    /// `RET_PTR_TO_BTF_ID`: a pointer to the kernel struct named by [`RetType::btf`].
    PtrToBtfId,
}

/// The kernel's `enum bpf_type_flag` bits a prototype uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TypeFlags(u16);

impl TypeFlags {
    /// No flag.
    pub const NONE: TypeFlags = TypeFlags(0);
    /// `PTR_MAYBE_NULL`.
    pub const MAYBE_NULL: TypeFlags = TypeFlags(1);
    /// `MEM_RDONLY`: the helper only reads the memory.
    pub const MEM_RDONLY: TypeFlags = TypeFlags(1 << 1);
    /// `MEM_UNINIT`: the memory need not be initialised (the helper fills it).
    pub const MEM_UNINIT: TypeFlags = TypeFlags(1 << 2);
    /// `MEM_WRITE`: the helper writes the memory.
    pub const MEM_WRITE: TypeFlags = TypeFlags(1 << 3);
    /// `MEM_FIXED_SIZE`: the size is [`ArgType::size`], not the next argument.
    pub const MEM_FIXED_SIZE: TypeFlags = TypeFlags(1 << 4);
    /// `MEM_ALIGNED`: the fixed-size memory must be aligned to its size.
    pub const MEM_ALIGNED: TypeFlags = TypeFlags(1 << 5);
    /// `OBJ_RELEASE`: the helper releases the referenced object.
    pub const OBJ_RELEASE: TypeFlags = TypeFlags(1 << 6);
    /// `DYNPTR_TYPE_LOCAL`.
    pub const DYNPTR_LOCAL: TypeFlags = TypeFlags(1 << 7);
    /// `DYNPTR_TYPE_RINGBUF`.
    pub const DYNPTR_RINGBUF: TypeFlags = TypeFlags(1 << 8);
    /// `MEM_ALLOC` / `MEM_RINGBUF`: ring buffer memory.
    pub const MEM_RINGBUF: TypeFlags = TypeFlags(1 << 9);

    /// Both sets.
    pub const fn or(self, other: TypeFlags) -> TypeFlags {
        TypeFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn has(self, other: TypeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// One argument's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgType {
    /// The base type.
    pub base: ArgBase,
    /// Its flags.
    pub flags: TypeFlags,
    /// The size of `MEM_FIXED_SIZE` memory (`argN_size`), else 0.
    pub size: u32,
    /// The kernel struct a BTF pointer points to (`argN_btf_id`), if any.
    pub btf: Option<&'static str>,
}

impl ArgType {
    /// With these flags added.
    pub const fn f(mut self, flags: &[TypeFlags]) -> ArgType {
        let mut i = 0;
        while i < flags.len() {
            self.flags = self.flags.or(flags[i]);
            i += 1;
        }
        self
    }

    /// With a fixed size.
    pub const fn size(mut self, size: u32) -> ArgType {
        self.size = size;
        self
    }

    /// Pointing to kernel struct `name`.
    pub const fn btf(mut self, name: &'static str) -> ArgType {
        self.btf = Some(name);
        self
    }
}

/// A return type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetType {
    /// The base type.
    pub base: RetBase,
    /// Its flags.
    pub flags: TypeFlags,
    /// The kernel struct a BTF pointer points to (`ret_btf_id`), if any.
    pub btf: Option<&'static str>,
}

impl RetType {
    /// With these flags added.
    pub const fn f(mut self, flags: &[TypeFlags]) -> RetType {
        let mut i = 0;
        while i < flags.len() {
            self.flags = self.flags.or(flags[i]);
            i += 1;
        }
        self
    }

    /// Pointing to kernel struct `name`.
    pub const fn btf(mut self, name: &'static str) -> RetType {
        self.btf = Some(name);
        self
    }
}

/// Properties of a prototype besides its types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct HelperFlags(u8);

impl HelperFlags {
    /// None.
    pub const NONE: HelperFlags = HelperFlags(0);
    /// `gpl_only`: refused to programs whose license is not GPL-compatible.
    pub const GPL_ONLY: HelperFlags = HelperFlags(1);
    /// `pkt_access`: memory arguments may point into the packet.
    pub const PKT_ACCESS: HelperFlags = HelperFlags(1 << 1);
    /// `might_sleep`: only sleepable programs may call it.
    pub const MIGHT_SLEEP: HelperFlags = HelperFlags(1 << 2);
    /// `allowed`: a further per-program check (attach point) decides.
    pub const ALLOWED_CHECK: HelperFlags = HelperFlags(1 << 3);

    /// Both sets.
    pub const fn or(self, other: HelperFlags) -> HelperFlags {
        HelperFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn has(self, other: HelperFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What a callback's register holds on entry (`set_*_callback_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallbackArg {
    /// An unknown scalar (`bpf_loop`'s index).
    Scalar,
    /// The caller's argument register N, copied (the callback context).
    CallerArg(u8),
    /// The map in the caller's argument N (`CONST_PTR_TO_MAP`).
    MapOfArg(u8),
    /// A key of the map in the caller's argument N (`PTR_TO_MAP_KEY`).
    KeyOfArg(u8),
    /// A value of the map in the caller's argument N (`PTR_TO_MAP_VALUE`).
    ValueOfArg(u8),
    /// The map holding the timer (recorded at `bpf_timer_init`).
    TimerMap,
    /// A key of the timer's map.
    TimerKey,
    /// The timer's map value.
    TimerValue,
    /// A pointer to kernel struct `name` (`PTR_TO_BTF_ID`).
    Btf(&'static str),
    /// A local dynptr (`PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL`).
    LocalDynptr,
}

/// The callback a helper takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Callback {
    /// The argument register (1-5) holding the callback.
    pub arg: u8,
    /// r1, r2 ... of the callback on entry; the rest are not initialised.
    pub params: &'static [CallbackArg],
    /// Smallest return value the kernel accepts (`callback_ret_range`).
    pub ret_min: i32,
    /// Largest return value the kernel accepts.
    pub ret_max: i32,
    /// Whether it runs later, not within the call (`in_async_callback_fn`).
    pub is_async: bool,
}

/// A set of program types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProgSet(u64);

impl ProgSet {
    /// No type.
    pub const NONE: ProgSet = ProgSet(0);
    /// Every type but `ext` (which takes its target's set).
    pub const ALL: ProgSet = ProgSet::of(ProgType::ALL).without(&[ProgType::Ext]);

    /// These types.
    pub const fn of(types: &[ProgType]) -> ProgSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << (types[i] as u32);
            i += 1;
        }
        ProgSet(bits)
    }

    /// Without these types.
    pub const fn without(self, types: &[ProgType]) -> ProgSet {
        ProgSet(self.0 & !ProgSet::of(types).0)
    }

    /// Whether `t` is in the set.
    pub const fn contains(self, t: ProgType) -> bool {
        self.0 & (1 << (t as u32)) != 0
    }

    /// The types in the set, in kernel order.
    pub fn iter(self) -> impl Iterator<Item = ProgType> {
        ProgType::ALL
            .iter()
            .copied()
            .filter(move |t| self.contains(*t))
    }
}

/// One helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Helper {
    /// `enum bpf_func_id` value.
    pub id: u32,
    /// Name without `bpf_`.
    pub name: &'static str,
    /// `gpl_only`, `pkt_access`, `might_sleep`, `allowed`.
    pub flags: HelperFlags,
    /// Return type.
    pub ret: RetType,
    /// Arguments r1.. (fewer than five: the rest are `ARG_DONTCARE`).
    pub args: &'static [ArgType],
    /// The callback it takes, if any.
    pub callback: Option<&'static Callback>,
    /// Program types that may call it (6.18, privileged).
    pub progs: ProgSet,
}

impl Helper {
    /// `gpl_only`.
    pub const fn gpl_only(&self) -> bool {
        self.flags.has(HelperFlags::GPL_ONLY)
    }
}

/// One past the largest helper id (`__BPF_FUNC_MAX_ID` of 6.18).
pub const MAX_ID: u32 = 212;

/// Names without `bpf_` by id (index 0 is `unspec`, the kernel's name for id 0).
pub static NAMES: [&str; MAX_ID as usize] = names();

const fn names() -> [&'static str; MAX_ID as usize] {
    let mut out = ["unspec"; MAX_ID as usize];
    let mut i = 0;
    while i < ids_1_105::ROWS.len() {
        out[ids_1_105::ROWS[i].id as usize] = ids_1_105::ROWS[i].name;
        i += 1;
    }
    let mut i = 0;
    while i < ids_106_211::ROWS.len() {
        out[ids_106_211::ROWS[i].id as usize] = ids_106_211::ROWS[i].name;
        i += 1;
    }
    out
}

/// Every helper, ids 1..[`MAX_ID`] in order.
pub fn all() -> impl Iterator<Item = &'static Helper> {
    ids_1_105::ROWS.iter().chain(ids_106_211::ROWS.iter())
}

/// Helper `id` (1..[`MAX_ID`]); `None` for 0 (`unspec`) and unknown ids.
pub fn get(id: u32) -> Option<&'static Helper> {
    let i = usize::try_from(id).ok()?.checked_sub(1)?;
    ids_1_105::ROWS
        .get(i)
        .or_else(|| ids_106_211::ROWS.get(i.checked_sub(ids_1_105::ROWS.len())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_id_order_and_complete() {
        let ids: Vec<u32> = all().map(|h| h.id).collect();
        assert_eq!(ids, (1..MAX_ID).collect::<Vec<_>>());
        for id in 1..MAX_ID {
            assert_eq!(get(id).map(|h| h.id), Some(id));
        }
        assert!(get(0).is_none() && get(MAX_ID).is_none());
    }

    #[test]
    fn prototypes_follow_the_kernel() {
        // bpf_map_lookup_elem_proto, bpf_probe_read_kernel_proto, bpf_loop_proto.
        let lookup = get(1).unwrap();
        assert_eq!(lookup.ret.base, RetBase::PtrToMapValue);
        assert!(lookup.ret.flags.has(TypeFlags::MAYBE_NULL));
        assert!(!lookup.gpl_only());
        let pr = get(113).unwrap();
        assert!(pr.gpl_only());
        assert!(pr.args[0].flags.has(TypeFlags::MEM_UNINIT));
        let lp = get(181).unwrap();
        assert_eq!(lp.args[1].base, ArgBase::PtrToFunc);
        assert_eq!(lp.callback.map(|c| c.arg), Some(2));
        // bpf_strtoul_proto: a fixed 8-byte result.
        assert_eq!(get(106).unwrap().args[3].size, 8);
        // Every callback argument is the PtrToFunc one.
        for h in all() {
            if let Some(cb) = h.callback {
                assert_eq!(
                    h.args[cb.arg as usize - 1].base,
                    ArgBase::PtrToFunc,
                    "{}",
                    h.name
                );
            }
        }
    }

    #[test]
    fn availability() {
        let xdp_adjust_head = get(44).unwrap();
        assert!(xdp_adjust_head.progs.contains(ProgType::Xdp));
        assert!(!xdp_adjust_head.progs.contains(ProgType::SchedCls));
        assert!(get(1).unwrap().progs.contains(ProgType::SocketFilter));
        assert!(!get(1).unwrap().progs.contains(ProgType::Ext));
    }
}
