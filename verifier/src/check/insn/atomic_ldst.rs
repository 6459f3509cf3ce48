//! Load-acquire and store-release (`BPF_STX | BPF_ATOMIC` with `imm` `BPF_LOAD_ACQ` or
//! `BPF_STORE_REL`), as 6.18's `check_atomic_load` and `check_atomic_store`: an ordinary
//! load or store of any size, always checked for alignment (`strict_alignment_once`), and
//! refused on pointers an atomic may not touch (`atomic_ptr_type_ok`) -- for a load before
//! the access is checked, for a store after (measured on 6.18: a load-acquire from the
//! context at a bad offset names the pointer type, a store-release to a misaligned packet
//! pointer names the alignment).

use crate::check::insn::mem::StoreVal;
use crate::check::{fail, opcode, Env, R};
use crate::state::{Reg, State, Ty};
use crate::EACCES;
use asm::Insn;

/// `atomic_ptr_type_ok`: no atomics on the context, packets, flow keys or sockets.
fn atomic_ptr_type_ok(reg: &Reg) -> bool {
    !matches!(
        reg.ty,
        Ty::Ctx | Ty::Pkt | Ty::PktMeta | Ty::FlowKeys | Ty::Sock | Ty::SockCommon | Ty::TcpSock
    )
}

impl Env<'_> {
    /// `check_atomic_load`: `dst = load_acquire((size *)(src + off))`: the pointer type,
    /// then `check_load_mem` with strict alignment.
    pub(crate) fn check_atomic_load(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = opcode::size_bytes(insn.code);
        let base = self.reg(st, insn.src);
        if !atomic_ptr_type_ok(&base) {
            return fail(
                EACCES,
                format!(
                    "BPF_ATOMIC loads from R{} {} is not allowed",
                    insn.src,
                    base.type_name()
                ),
            );
        }
        self.check_reg_read(st, insn.src)?;
        self.check_reg_write(insn.dst)?;
        self.strict_once = true;
        let loaded = self.mem_access(st, insn.src, insn.off as i64, size, false, None, false);
        self.strict_once = false;
        if let Some(v) = loaded? {
            self.set(st, insn.dst, v);
        }
        self.save_ptr_type(&base)
    }

    /// `check_atomic_store`: `store_release((size *)(dst + off), src)`, checked as
    /// `check_store_reg` with strict alignment, then the pointer type.
    pub(crate) fn check_atomic_store(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = opcode::size_bytes(insn.code);
        let src = self.check_reg_read(st, insn.src)?;
        let dst = self.check_reg_read(st, insn.dst)?;
        self.strict_once = true;
        let stored = self.mem_access(
            st,
            insn.dst,
            insn.off as i64,
            size,
            true,
            Some(StoreVal::Reg(insn.src, src)),
            false,
        );
        self.strict_once = false;
        stored?;
        self.save_ptr_type(&dst)?;
        if !atomic_ptr_type_ok(&dst) {
            return fail(
                EACCES,
                format!(
                    "BPF_ATOMIC stores into R{} {} is not allowed",
                    insn.dst,
                    dst.type_name()
                ),
            );
        }
        Ok(())
    }
}
