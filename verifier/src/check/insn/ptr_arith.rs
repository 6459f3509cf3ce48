//! Pointer arithmetic (`adjust_ptr_min_max_vals`): the offset ranges come from `scalar.rs`,
//! the rules about which pointers may move and how far are the kernel's.

use crate::check::opcode::AluKind;
use crate::check::{fail, opcode, Env, MAX_BPF_STACK, MAX_VAR_OFF, R};
use crate::state::{Reg, State, Ty};
use crate::{scalar, EACCES, EINVAL};
use asm::isa::AluOp as IsaAluOp;
use asm::Insn;

pub(crate) fn check_sane_offset(r: &Reg, tname: &str) -> R<()> {
    let known = r.s.is_const();
    let val = r.s.value() as i64;
    if known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF) {
        return fail(
            EINVAL,
            format!("math between {tname} pointer and {val} is not allowed"),
        );
    }
    if r.off as i64 >= MAX_VAR_OFF || r.off as i64 <= -MAX_VAR_OFF {
        return fail(
            EINVAL,
            format!("{tname} pointer offset {} is not allowed", r.off),
        );
    }
    if r.s.smin == i64::MIN {
        return fail(
            EINVAL,
            format!(
                "math between {tname} pointer and register with unbounded min value is not allowed"
            ),
        );
    }
    if r.s.smin >= MAX_VAR_OFF || r.s.smin <= -MAX_VAR_OFF {
        return fail(
            EINVAL,
            format!("value {} makes {tname} pointer be out of bounds", r.s.smin),
        );
    }
    Ok(())
}

impl Env<'_> {
    /// `adjust_ptr_min_max_vals`: which pointers may move and how; the offset range comes
    /// from `scalar::ptr_add`/`ptr_sub`. `scalar_is_dst` is `scalar += pointer`.
    pub(crate) fn adjust_ptr(
        &mut self,
        st: &mut State,
        insn: &Insn,
        alu64: bool,
        ptr: Reg,
        off_reg: Reg,
        scalar_is_dst: bool,
    ) -> R<()> {
        let kind = opcode::alu_kind(insn.code);
        let dreg = insn.dst;
        if !alu64 {
            if kind == AluKind::Op(IsaAluOp::Sub) && self.prog.opts.privileged {
                self.set(st, dreg, Reg::unknown());
                return Ok(());
            }
            return fail(
                EACCES,
                format!("R{dreg} 32-bit pointer arithmetic prohibited"),
            );
        }
        if ptr.maybe_null {
            return fail(
                EACCES,
                format!(
                    "R{dreg} pointer arithmetic on {} prohibited, null-check it first",
                    ptr.type_name()
                ),
            );
        }
        let o = off_reg.s;
        let known = o.is_const();
        let ok_type = match ptr.ty {
            Ty::Ctx
            | Ty::MapValue
            | Ty::MapKey
            | Ty::Stack
            | Ty::PktMeta
            | Ty::Pkt
            | Ty::TpBuffer
            | Ty::RingbufMem => true,
            Ty::FlowKeys => known,
            Ty::MapPtr => known && o.smin == 0 && kind == AluKind::Op(IsaAluOp::Add),
            _ => false,
        };
        if !ok_type {
            return fail(
                EACCES,
                format!(
                    "R{dreg} pointer arithmetic on {} prohibited",
                    ptr.type_name()
                ),
            );
        }
        if (known && (o.smin != o.smax || o.umin != o.umax)) || o.smin > o.smax || o.umin > o.umax {
            self.set(st, dreg, Reg::unknown());
            return Ok(());
        }
        let tname = ptr.type_name();
        check_sane_offset(&off_reg, &tname)?;
        check_sane_offset(&ptr, &tname)?;
        let mut d = ptr;
        match kind {
            AluKind::Op(IsaAluOp::Add) => {
                let fixed = ptr.off as i64 + o.smin;
                if known && fixed == fixed as i32 as i64 {
                    d.off = fixed as i32;
                } else {
                    d.s = scalar::ptr_add(&ptr.s, &o);
                    if ptr.is_pkt() {
                        d.id = self.new_id();
                        d.range = 0;
                    }
                }
            }
            AluKind::Op(IsaAluOp::Sub) => {
                if scalar_is_dst {
                    return fail(
                        EACCES,
                        format!("R{dreg} tried to subtract pointer from scalar"),
                    );
                }
                if ptr.ty == Ty::Stack {
                    return fail(
                        EACCES,
                        format!("R{dreg} subtraction from stack pointer prohibited"),
                    );
                }
                let fixed = ptr.off as i64 - o.smin;
                if known && fixed == fixed as i32 as i64 {
                    d.off = fixed as i32;
                } else {
                    d.s = scalar::ptr_sub(&ptr.s, &o);
                    if ptr.is_pkt() {
                        d.id = self.new_id();
                        if o.smin < 0 {
                            d.range = 0;
                        }
                    }
                }
            }
            AluKind::Op(IsaAluOp::Or | IsaAluOp::And | IsaAluOp::Xor) => {
                return fail(
                    EACCES,
                    format!(
                        "R{dreg} bitwise operator {} on pointer prohibited",
                        opcode::alu_str(kind)
                    ),
                );
            }
            _ => {
                return fail(
                    EACCES,
                    format!(
                        "R{dreg} pointer arithmetic with {} operator prohibited",
                        opcode::alu_str(kind)
                    ),
                );
            }
        }
        // Pointers carry no 32-bit bounds (`__mark_reg32_unbounded`).
        d.s.s32_min = i32::MIN;
        d.s.s32_max = i32::MAX;
        d.s.u32_min = 0;
        d.s.u32_max = u32::MAX;
        check_sane_offset(&d, &tname)?;
        d.s.sync();
        if !self.prog.opts.privileged {
            // `sanitize_check_bounds`: without Spectre v1 bypass the result must stay in
            // bounds, so the access can be masked later.
            if d.ty == Ty::Stack {
                if !d.s.is_const() {
                    return fail(
                        EACCES,
                        format!(
                            "R{dreg} variable stack access prohibited for !root, var_off={} off={}",
                            d.s.var_off.kernel_fmt(),
                            d.off
                        ),
                    );
                }
                let off = d.off as i64 + d.s.value() as i64;
                if !(-MAX_BPF_STACK..0).contains(&off) {
                    return fail(
                        EACCES,
                        format!("R{dreg} stack pointer arithmetic goes out of range, prohibited for !root, off={off}"),
                    );
                }
            } else if d.ty == Ty::MapValue {
                let m = self.prog.maps[d.aux as usize].clone();
                if self
                    .check_map_access(dreg, &d, d.off as i64, 1, &m, false)
                    .is_err()
                {
                    return fail(
                        EACCES,
                        format!("R{dreg} pointer arithmetic of map value goes out of range, prohibited for !root"),
                    );
                }
            }
        }
        self.set(st, dreg, d);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::Scalar;
    use crate::Options;
    use asm::types::ProgType;

    fn scalar_in(lo: i64, hi: i64) -> Reg {
        let mut r = Reg::unknown();
        r.s.smin = lo;
        r.s.smax = hi;
        r
    }

    #[test]
    fn sane_offsets_stay_within_max_var_off() {
        assert!(check_sane_offset(&Reg::known(16), "map_value").is_ok());
        let err = |r: &Reg| check_sane_offset(r, "map_value").unwrap_err().lines;
        assert_eq!(
            err(&Reg::known(1 << 29)),
            ["math between map_value pointer and 536870912 is not allowed"]
        );
        assert_eq!(
            err(&Reg::unknown()),
            ["math between map_value pointer and register with unbounded min value is not allowed"]
        );
        assert_eq!(
            err(&scalar_in(-(1 << 29), 0)),
            ["value -536870912 makes map_value pointer be out of bounds"]
        );
        let mut moved = Reg::ptr(Ty::MapValue);
        moved.off = 1 << 29;
        assert_eq!(
            err(&moved),
            ["map_value pointer offset 536870912 is not allowed"]
        );
    }

    /// Runs `r1 OP r2` on a state where r1 = `ptr` and r2 = `off`.
    fn arith(op: &str, ptr: Reg, off: Reg, privileged: bool) -> Result<Reg, String> {
        let insn = asm::text::assemble(&format!("r1 {op} r2\n"), asm::Dialect::Llvm)
            .unwrap()
            .insns[0];
        let mut opts = Options::new(ProgType::SocketFilter);
        opts.privileged = privileged;
        let mut env = Env::new(vec![insn], &opts);
        let mut st = env.initial_state();
        st.cur_mut().regs[1] = ptr;
        st.cur_mut().regs[2] = off;
        env.adjust_reg(&mut st, &insn, true, true)
            .map_err(|f| f.lines.join(" / "))?;
        Ok(st.cur().regs[1])
    }

    #[test]
    fn constant_offsets_move_the_fixed_part() {
        let r = arith("+=", Reg::ptr(Ty::Stack), Reg::known((-16i64) as u64), true).unwrap();
        assert_eq!((r.ty, r.off, r.s), (Ty::Stack, -16, Scalar::known(0)));
        let r = arith("-=", Reg::ptr(Ty::Ctx), Reg::known(4), true).unwrap();
        assert_eq!((r.ty, r.off), (Ty::Ctx, -4));
    }

    #[test]
    fn variable_offsets_take_scalar_ranges_and_reset_packet_range() {
        let mut pkt = Reg::ptr(Ty::Pkt);
        pkt.range = 8;
        let mut idx = Reg::unknown();
        idx.s = Scalar::range_u(0, 15);
        let r = arith("+=", pkt, idx, true).unwrap();
        assert_eq!((r.ty, r.off, r.range), (Ty::Pkt, 0, 0));
        assert_eq!((r.s.umin, r.s.umax, r.s.smin, r.s.smax), (0, 15, 0, 15));
        assert_ne!(
            r.id, 0,
            "a packet pointer moved by a variable gets a new id"
        );
    }

    #[test]
    fn forbidden_pointer_arithmetic() {
        assert_eq!(
            arith("-=", Reg::ptr(Ty::Stack), Reg::known(8), true).unwrap_err(),
            "R1 subtraction from stack pointer prohibited"
        );
        assert_eq!(
            arith("&=", Reg::ptr(Ty::MapValue), Reg::known(3), true).unwrap_err(),
            "R1 bitwise operator &= on pointer prohibited"
        );
        let mut maybe_null = Reg::ptr(Ty::MapValue);
        maybe_null.maybe_null = true;
        assert_eq!(
            arith("+=", maybe_null, Reg::known(8), true).unwrap_err(),
            "R1 pointer arithmetic on map_value_or_null prohibited, null-check it first"
        );
        assert_eq!(
            arith("+=", Reg::ptr(Ty::Stack), Reg::known(8), false).unwrap_err(),
            "R1 stack pointer arithmetic goes out of range, prohibited for !root, off=8"
        );
    }
}
