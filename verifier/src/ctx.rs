//! Context access rules per program type: the kernel's `*_is_valid_access` functions, read
//! from `asm::types::ctx` (the one table of context layouts, shared with the VM).

use crate::state::Ty;
use asm::types::ctx::{self as table, Kind};
use asm::types::{AttachType, ProgType};

/// What a valid context access yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// A number.
    Scalar,
    /// A pointer of this type (`maybe_null` when the second is true).
    Ptr(Ty, bool),
}

/// Whether the context of `pt` is modelled at all. Tracing programs' arguments are typed
/// by their attach target's BTF (`btf_ctx_access`), which the verifier does not read.
pub fn modelled(pt: ProgType) -> bool {
    pt != ProgType::Tracing && table::layout(pt).is_some()
}

fn reg_type(k: Kind) -> Field {
    match k {
        Kind::Scalar => Field::Scalar,
        Kind::Packet => Field::Ptr(Ty::Pkt, false),
        Kind::PacketEnd => Field::Ptr(Ty::PktEnd, false),
        Kind::PacketMeta => Field::Ptr(Ty::PktMeta, false),
        Kind::Socket => Field::Ptr(Ty::Sock, false),
        Kind::SocketOrNull => Field::Ptr(Ty::Sock, true),
        Kind::SockCommonOrNull => Field::Ptr(Ty::SockCommon, true),
        Kind::FlowKeys => Field::Ptr(Ty::FlowKeys, false),
        Kind::TpBuffer => Field::Ptr(Ty::TpBuffer, false),
        Kind::Btf => Field::Ptr(Ty::BtfPtr, false),
    }
}

/// The result of accessing `size` bytes at `off` of the context of a `pt` program loaded
/// with expected attach type `attach` (the kernel's number), or `None` when the kernel
/// says "invalid bpf_context access".
pub fn access(
    pt: ProgType,
    attach: Option<u32>,
    privileged: bool,
    off: i32,
    size: i32,
    write: bool,
) -> Option<Field> {
    let layout = table::layout(pt)?;
    let attach = table::fixup_attach_type(pt, attach.and_then(AttachType::from_number));
    let size = u32::try_from(size).ok()?;
    let a = layout.access(off as i64, size, write, attach)?;
    // cg_skb_is_valid_access(): direct packet access and `tstamp` stores need bpf_capable().
    if pt == ProgType::CgroupSkb
        && !privileged
        && (a.kind.is_pointer() && a.kind != Kind::SockCommonOrNull
            || write && a.field.name == "tstamp")
    {
        return None;
    }
    Some(reg_type(a.kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_and_nullability() {
        assert_eq!(
            access(ProgType::SockOps, None, true, 184, 8, false),
            Some(Field::Ptr(Ty::Sock, true))
        );
        assert_eq!(
            access(ProgType::SchedCls, None, true, 140, 4, false),
            Some(Field::Ptr(Ty::PktMeta, false))
        );
        assert_eq!(
            access(ProgType::SockOps, None, true, 4, 4, true),
            Some(Field::Scalar)
        );
        assert_eq!(access(ProgType::SockOps, None, true, 8, 4, true), None);
        assert!(!modelled(ProgType::Tracing));
    }

    #[test]
    fn unprivileged_cgroup_skb() {
        // cg_skb_is_valid_access(): no direct packet access, no tstamp stores.
        assert!(access(ProgType::CgroupSkb, None, true, 76, 4, false).is_some());
        assert_eq!(access(ProgType::CgroupSkb, None, false, 76, 4, false), None);
        assert_eq!(access(ProgType::CgroupSkb, None, false, 152, 8, true), None);
        assert!(access(ProgType::CgroupSkb, None, false, 8, 4, true).is_some());
    }
}
