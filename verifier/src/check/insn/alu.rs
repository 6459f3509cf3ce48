//! ALU instructions on scalars and moves (`check_alu_op`, `adjust_scalar_min_max_vals`).

use crate::check::opcode::AluKind;
use crate::check::{fail, opcode, Env, ADD_CONST, R};
use crate::scalar::{AluOp, Scalar};
use crate::state::{Reg, State, Ty};
use crate::{scalar, EACCES, EINVAL};
use asm::isa::{class, AluOp as IsaAluOp};
use asm::Insn;

pub(crate) fn byte_swap(v: u64, insn: &Insn, alu64: bool) -> u64 {
    // `BPF_TO_BE` shares the source bit.
    let to_be = opcode::src_is_reg(insn.code) && !alu64;
    let swap = alu64 || to_be;
    match insn.imm {
        16 => {
            let t = v as u16;
            (if swap { t.swap_bytes() } else { t }) as u64
        }
        32 => {
            let t = v as u32;
            (if swap { t.swap_bytes() } else { t }) as u64
        }
        _ => {
            if swap {
                v.swap_bytes()
            } else {
                v
            }
        }
    }
}

impl Env<'_> {
    /// `assign_scalar_id_before_mov`: a copied scalar gets an id linking the copies; a
    /// register already linked with an added constant loses that link first.
    pub(crate) fn assign_id_before_mov(&mut self, st: &mut State, regno: u8) -> Reg {
        let mut r = self.reg(st, regno);
        if r.ty == Ty::Scalar {
            if r.id & ADD_CONST != 0 {
                r.id = 0;
                r.off = 0;
            }
            if r.id == 0 && !r.s.is_const() {
                r.id = self.new_id();
            }
            self.set(st, regno, r);
        }
        r
    }

    /// `check_alu_op`: reserved fields, operand reads and writes, then the operation's effect.
    pub(crate) fn check_alu(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let alu64 = opcode::class(insn.code) == class::ALU64;
        let kind = opcode::alu_kind(insn.code);
        let x = opcode::src_is_reg(insn.code);
        let reserved = |name: &str| fail(EINVAL, format!("{name} uses reserved fields"));
        match kind {
            AluKind::Neg | AluKind::End => {
                if kind == AluKind::Neg {
                    if x || insn.src != 0 || insn.off != 0 || insn.imm != 0 {
                        return reserved("BPF_NEG");
                    }
                } else if insn.src != 0
                    || insn.off != 0
                    || !matches!(insn.imm, 16 | 32 | 64)
                    || (alu64 && x)
                {
                    return reserved("BPF_END");
                }
                let r = self.check_reg_read(st, insn.dst)?;
                self.check_reg_write(insn.dst)?;
                if !self.prog.opts.privileged && r.is_ptr() {
                    return fail(
                        EACCES,
                        format!("R{} pointer arithmetic prohibited", insn.dst),
                    );
                }
                let mut out = Reg::unknown();
                if r.ty == Ty::Scalar {
                    if kind == AluKind::Neg {
                        let mut s = r.s;
                        scalar::neg(&mut s, !alu64);
                        out.s = s;
                    } else if r.s.is_const() {
                        out.s = Scalar::known(byte_swap(r.s.value(), insn, alu64));
                    } else if !x && !alu64 && insn.imm < 64 {
                        // `le16`/`le32` on a little-endian host truncate.
                        let mut s = r.s;
                        s.truncate(insn.imm as u32 / 8);
                        out.s = s;
                    }
                }
                self.set(st, insn.dst, out);
                Ok(())
            }
            AluKind::Op(IsaAluOp::Mov) => self.check_mov(st, insn, alu64, x),
            AluKind::Op(op) => {
                let divmod = matches!(
                    op,
                    IsaAluOp::Div | IsaAluOp::SDiv | IsaAluOp::Mod | IsaAluOp::SMod
                );
                if x {
                    if insn.imm != 0 || (insn.off != 0 && !(insn.off == 1 && divmod)) {
                        return reserved("BPF_ALU");
                    }
                    self.check_reg_read(st, insn.src)?;
                } else if insn.src != 0 || (insn.off != 0 && !(insn.off == 1 && divmod)) {
                    return reserved("BPF_ALU");
                }
                self.check_reg_read(st, insn.dst)?;
                if divmod && !x && insn.imm == 0 {
                    return fail(EINVAL, "div by zero");
                }
                if matches!(op, IsaAluOp::Lsh | IsaAluOp::Rsh | IsaAluOp::Arsh) && !x {
                    let size = if alu64 { 64 } else { 32 };
                    if insn.imm < 0 || insn.imm >= size {
                        return fail(EINVAL, format!("invalid shift {}", insn.imm));
                    }
                }
                self.check_reg_write(insn.dst)?;
                self.adjust_reg(st, insn, alu64, x)
            }
            AluKind::Invalid => fail(
                EINVAL,
                format!("invalid BPF_ALU opcode {:x}", opcode::op_bits(insn.code)),
            ),
        }
    }

    /// `BPF_MOV` (and `movsx`): copies keep their scalar ids so bounds learnt on one copy reach
    /// the other (`assign_scalar_id_before_mov`).
    pub(crate) fn check_mov(&mut self, st: &mut State, insn: &Insn, alu64: bool, x: bool) -> R<()> {
        let reserved = || fail(EINVAL, "BPF_MOV uses reserved fields");
        if x {
            let off_ok = if alu64 {
                matches!(insn.off, 0 | 8 | 16 | 32)
            } else {
                matches!(insn.off, 0 | 8 | 16)
            };
            if insn.imm != 0 || !off_ok {
                return reserved();
            }
            self.check_reg_read(st, insn.src)?;
        } else if insn.src != 0 || insn.off != 0 {
            return reserved();
        }
        self.check_reg_write(insn.dst)?;
        if !x {
            let v = if alu64 {
                insn.imm as u64
            } else {
                insn.imm as u32 as u64
            };
            self.set(st, insn.dst, Reg::known(v));
            return Ok(());
        }
        let src = self.reg(st, insn.src);
        if alu64 {
            if insn.off == 0 {
                let s = self.assign_id_before_mov(st, insn.src);
                self.set(st, insn.dst, s);
            } else if src.ty == Ty::Scalar {
                let bits = insn.off as u32;
                let no_sext = src.s.umax < (1u64 << (bits - 1));
                let mut d = if no_sext {
                    self.assign_id_before_mov(st, insn.src)
                } else {
                    src
                };
                if !no_sext {
                    d.id = 0;
                    d.off = 0;
                }
                if !no_sext {
                    d.s.sign_extend(bits / 8);
                }
                self.set(st, insn.dst, d);
            } else {
                if !self.prog.opts.privileged {
                    return fail(
                        EACCES,
                        format!("R{} sign-extension part of pointer", insn.src),
                    );
                }
                self.set(st, insn.dst, Reg::unknown());
            }
        } else if src.ty == Ty::Scalar {
            let mut d = src;
            if insn.off == 0 {
                let fits = src.s.umax <= u32::MAX as u64;
                if fits {
                    d = self.assign_id_before_mov(st, insn.src);
                } else {
                    d.id = 0;
                    d.off = 0;
                }
                d.s.zext32();
                d.s.sync();
            } else {
                d.id = 0;
                let mut s = d.s;
                let v = s.var_off.subreg();
                if v.is_const() {
                    let e = match insn.off {
                        8 => v.value as u8 as i8 as i32 as u32,
                        _ => v.value as u16 as i16 as i32 as u32,
                    };
                    s = Scalar::known(e as u64);
                } else {
                    s.sign_extend(insn.off as u32 / 8);
                    s.zext32();
                    s.sync();
                }
                d.s = s;
            }
            self.set(st, insn.dst, d);
        } else {
            if !self.prog.opts.privileged {
                return fail(EACCES, format!("R{} partial copy of pointer", insn.src));
            }
            self.set(st, insn.dst, Reg::unknown());
        }
        Ok(())
    }

    /// `adjust_reg_min_max_vals`: pointer operands go to `adjust_ptr`, scalars to `scalar::alu`.
    pub(crate) fn adjust_reg(
        &mut self,
        st: &mut State,
        insn: &Insn,
        alu64: bool,
        x: bool,
    ) -> R<()> {
        let kind = opcode::alu_kind(insn.code);
        let dst = self.reg(st, insn.dst);
        let src = if x {
            self.reg(st, insn.src)
        } else {
            Reg::known(insn.imm as u64)
        };
        if x && src.is_ptr() {
            if dst.is_ptr() {
                if kind == AluKind::Op(IsaAluOp::Sub) && self.prog.opts.privileged {
                    self.set(st, insn.dst, Reg::unknown());
                    return Ok(());
                }
                return fail(
                    EACCES,
                    format!(
                        "R{} pointer {} pointer prohibited",
                        insn.dst,
                        opcode::alu_str(kind)
                    ),
                );
            }
            return self.adjust_ptr(st, insn, alu64, src, dst, true);
        }
        if dst.is_ptr() {
            return self.adjust_ptr(st, insn, alu64, dst, src, false);
        }
        let mut d = dst;
        let aop = match kind {
            AluKind::Op(IsaAluOp::Add) => AluOp::Add,
            AluKind::Op(IsaAluOp::Sub) => AluOp::Sub,
            AluKind::Op(IsaAluOp::Mul) => AluOp::Mul,
            AluKind::Op(IsaAluOp::Div | IsaAluOp::SDiv) => AluOp::Div,
            AluKind::Op(IsaAluOp::Or) => AluOp::Or,
            AluKind::Op(IsaAluOp::And) => AluOp::And,
            AluKind::Op(IsaAluOp::Lsh) => AluOp::Lsh,
            AluKind::Op(IsaAluOp::Rsh) => AluOp::Rsh,
            AluKind::Op(IsaAluOp::Mod | IsaAluOp::SMod) => AluOp::Mod,
            AluKind::Op(IsaAluOp::Xor) => AluOp::Xor,
            _ => AluOp::Arsh,
        };
        let mut srcs = src.s;
        if !x && !alu64 {
            srcs = Scalar::known(insn.imm as u32 as u64);
            if matches!(aop, AluOp::Add | AluOp::Sub | AluOp::Mul) {
                // The 32-bit view of a sign-extended immediate is what matters.
                srcs = Scalar::known(insn.imm as u64);
            }
        }
        scalar::alu(&mut d.s, &srcs, aop, !alu64);
        d.ty = Ty::Scalar;
        // `rX += const` keeps rX linked to its copies with a known delta (BPF_ADD_CONST).
        if self.prog.opts.privileged
            && aop == AluOp::Add
            && alu64
            && dst.id != 0
            && src.s.is_const()
        {
            let val = src.s.value();
            if dst.id & ADD_CONST != 0 || val > i32::MAX as u64 {
                d.id = 0;
                d.off = 0;
            } else {
                d.id |= ADD_CONST;
                d.off = val as i32;
            }
        } else {
            d.id = 0;
            d.off = 0;
        }
        self.set(st, insn.dst, d);
        Ok(())
    }
}
