//! Stack accesses (`check_stack_read`, `check_stack_write`): spills, fills, misc and zero bytes.

use crate::check::insn::mem::StoreVal;
use crate::check::{fail, reg_width, Env, MAX_BPF_STACK, MAX_VAR_OFF, R};
use crate::scalar::Scalar;
use crate::state::{Frame, Reg, Slot, StackSlot, State, Ty};
use crate::{EACCES, EFAULT, EINVAL};

pub(crate) fn save_spill(slot: &mut StackSlot, v: Reg, size: i64) {
    slot.spilled = v;
    for i in 0..8 {
        if i >= 8 - size as usize {
            slot.bytes[i] = Slot::Spill;
        } else if slot.bytes[i] == Slot::Spill || slot.bytes[i] == Slot::Invalid {
            slot.bytes[i] = if slot.bytes[i] == Slot::Invalid {
                Slot::Invalid
            } else {
                Slot::Misc
            };
        }
    }
}

impl Env<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_stack_bounds(
        &mut self,
        st: &mut State,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        write: bool,
        helper: &str,
    ) -> R<()> {
        let _ = helper;
        let extra = if write { " write to" } else { " read from" };
        let (min_off, max_off) = if reg.s.is_const() {
            let m = reg.s.value() as i64 + off;
            (m, m + size)
        } else {
            if reg.s.smax >= MAX_VAR_OFF || reg.s.smin <= -MAX_VAR_OFF {
                return fail(
                    EACCES,
                    format!("invalid unbounded variable-offset{extra} stack R{regno}"),
                );
            }
            (reg.s.smin + off, reg.s.smax + off + size)
        };
        let frame = reg.aux as usize;
        let allocated = st.frames[frame].stack.len() as i64 * 8;
        let min_valid = if write || self.prog.opts.privileged {
            -MAX_BPF_STACK
        } else {
            -allocated
        };
        let mut err = 0;
        if min_off < min_valid || min_off > -1 {
            err = EACCES;
        } else if max_off > 0 {
            err = EINVAL;
        } else if size < 0 {
            err = EFAULT;
        }
        if err != 0 {
            if reg.s.is_const() {
                return fail(
                    err,
                    format!("invalid{extra} stack R{regno} off={off} size={size}"),
                );
            }
            return fail(
                err,
                format!(
                    "invalid variable-offset{extra} stack R{regno} var_off={} off={off} size={size}",
                    reg.s.var_off.kernel_fmt()
                ),
            );
        }
        st.frames[frame].grow(min_off);
        let sub = st.frames[frame].subprog;
        let depth = (-min_off) as u32;
        if self.stack_depth[sub] < depth {
            self.stack_depth[sub] = depth;
        }
        Ok(())
    }

    /// `check_stack_write` (fixed and variable offsets): spills keep the register.
    pub(crate) fn stack_write(
        &mut self,
        st: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: i64,
        val: Option<StoreVal>,
    ) -> R<()> {
        let is_cur = frame == st.frames.len() - 1;
        if !reg.s.is_const() {
            // Variable-offset write: every byte it may touch becomes data.
            let lo = reg.s.smin + off;
            let hi = reg.s.smax + off + size;
            let zero = match val {
                Some(StoreVal::Reg(_, v)) => v.ty == Ty::Scalar && v.s == Scalar::known(0),
                Some(StoreVal::Imm(i)) => i == 0,
                None => false,
            };
            let f = &mut st.frames[frame];
            for a in lo..hi {
                let si = Frame::slot_index(a);
                if let Some(slot) = f.stack.get_mut(si) {
                    let bi = ((-a - 1) % 8) as usize;
                    if slot.bytes[7] == Slot::Spill || slot.bytes.contains(&Slot::Spill) {
                        for b in slot.bytes.iter_mut() {
                            if *b == Slot::Spill {
                                *b = Slot::Misc;
                            }
                        }
                        slot.spilled = Reg::NOT_INIT;
                    }
                    if !(zero && slot.bytes[bi] == Slot::Zero) {
                        slot.bytes[bi] = if zero && lo == hi - size {
                            Slot::Zero
                        } else {
                            Slot::Misc
                        };
                    }
                }
            }
            return Ok(());
        }
        let a = reg.s.value() as i64 + off;
        let si = Frame::slot_index(a);
        let aligned8 = a % 8 == 0;
        let mut stored = match val {
            Some(StoreVal::Reg(_, v)) => Some(v),
            _ => None,
        };
        if let (Some(StoreVal::Reg(r, _)), true) = (val, aligned8) {
            // A spilled scalar gets an id so a later fill stays linked.
            let cur = st.cur().regs[r as usize];
            if cur.ty == Ty::Scalar && reg_width(&cur) <= 8 * size as u32 {
                stored = Some(self.assign_id_before_mov(st, r));
            }
        }
        let f = &mut st.frames[frame];
        let slot = &mut f.stack[si];
        let privileged = self.prog.opts.privileged;
        if !privileged && slot.bytes[7] == Slot::Spill && slot.spilled.ty != Ty::Scalar && size != 8
        {
            return fail(EACCES, "attempt to corrupt spilled pointer on stack");
        }
        match (val, stored) {
            (Some(StoreVal::Reg(_, _)), Some(v))
                if aligned8 && v.ty == Ty::Scalar && privileged =>
            {
                let mut sv = v;
                if reg_width(&v) > 8 * size as u32 {
                    sv.id = 0;
                }
                save_spill(slot, sv, size);
            }
            (Some(StoreVal::Imm(imm)), _) if aligned8 && privileged => {
                save_spill(slot, Reg::known(imm as u64), size);
            }
            (Some(StoreVal::Reg(_, _)), Some(v)) if v.is_ptr() => {
                if size != 8 {
                    return fail(EACCES, "invalid size of register spill");
                }
                if !is_cur && v.ty == Ty::Stack {
                    return fail(
                        EINVAL,
                        "cannot spill pointers to stack into stack frame of the caller",
                    );
                }
                save_spill(slot, v, size);
            }
            _ => {
                let zero = match val {
                    Some(StoreVal::Reg(_, v)) => v.ty == Ty::Scalar && v.s == Scalar::known(0),
                    Some(StoreVal::Imm(i)) => i == 0,
                    None => false,
                };
                slot.spilled = Reg::NOT_INIT;
                if slot.bytes.contains(&Slot::Spill) {
                    for b in slot.bytes.iter_mut() {
                        if *b == Slot::Spill {
                            *b = Slot::Misc;
                        }
                    }
                }
                let t = if zero { Slot::Zero } else { Slot::Misc };
                let top = (-a - 1) as usize % 8;
                for k in 0..size as usize {
                    slot.bytes[(top + 8 - k) % 8] = t;
                }
            }
        }
        Ok(())
    }

    /// `check_stack_read`: fills bring a spilled register back.
    pub(crate) fn stack_read(
        &mut self,
        st: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: i64,
    ) -> R<Reg> {
        if !reg.s.is_const() {
            return Ok(Reg::unknown());
        }
        let a = reg.s.value() as i64 + off;
        let si = Frame::slot_index(a);
        let f = &st.frames[frame];
        let slot = f.stack[si];
        let top = (-a - 1) as usize % 8;
        let allow_uninit = self.prog.opts.privileged;
        if slot.bytes[7] == Slot::Spill {
            let sp = slot.spilled;
            let mut spill_size = 1;
            let mut i = 7;
            while i > 0 && slot.bytes[i - 1] == Slot::Spill {
                spill_size += 1;
                i -= 1;
            }
            if size != 8 || spill_size != 8 {
                if sp.ty != Ty::Scalar {
                    return fail(EACCES, "invalid size of register fill");
                }
                // Narrow fill from the low end of the spill keeps the value.
                let narrow_ok = size <= spill_size && a % 8 == 0 && a - (a % 8) == a;
                if narrow_ok {
                    let mut v = sp;
                    if reg_width(&sp) > size as u32 * 8 {
                        v.id = 0;
                    }
                    return Ok(v);
                }
                let mut spill_cnt = 0;
                let mut zero_cnt = 0;
                for k in 0..size as usize {
                    let t = slot.bytes[(top + 8 - k) % 8];
                    match t {
                        Slot::Spill => spill_cnt += 1,
                        Slot::Misc => {}
                        Slot::Zero => zero_cnt += 1,
                        Slot::Invalid if allow_uninit => {}
                        Slot::Invalid => {
                            return fail(
                                EACCES,
                                format!("invalid read from stack off {a}+{k} size {size}"),
                            );
                        }
                    }
                }
                if (spill_cnt == size && sp.s == Scalar::known(0)) || zero_cnt == size {
                    return Ok(Reg::known(0));
                }
                return Ok(Reg::unknown());
            }
            return Ok(sp);
        }
        let mut all_zero = true;
        for k in 0..size as usize {
            match slot.bytes[(top + 8 - k) % 8] {
                Slot::Zero => {}
                Slot::Misc | Slot::Spill => all_zero = false,
                Slot::Invalid if allow_uninit => all_zero = false,
                Slot::Invalid => {
                    return fail(
                        EACCES,
                        format!("invalid read from stack off {a}+{k} size {size}"),
                    );
                }
            }
        }
        Ok(if all_zero {
            Reg::known(0)
        } else {
            Reg::unknown()
        })
    }
}
