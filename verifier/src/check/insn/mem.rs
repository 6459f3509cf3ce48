//! Loads, stores and atomics through pointers (`check_mem_access`, `check_atomic`): context,
//! packet, map value, socket and memory regions; alignment.

use crate::check::verdict::tnum_short;
use crate::check::{fail, fail2, opcode, unsupported, Env, MAX_VAR_OFF, R};
use crate::ctx::Field;
use crate::state::{Reg, State, Ty};
use crate::tnum::Tnum;
use crate::{ctx, MapSpec, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, EACCES, EINVAL};
use asm::isa::{class, AtomicOp, Form};
use asm::types::{MapType, ProgType};
use asm::Insn;

#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreVal {
    Reg(u8, Reg),
    Imm(i64),
}

pub(crate) fn check_ptr_off_reg(reg: &Reg, regno: u8, fixed_ok: bool) -> R<()> {
    let t = reg.type_name();
    if reg.off < 0 {
        return fail(
            EACCES,
            format!(
                "negative offset {t} ptr R{regno} off={} disallowed",
                reg.off
            ),
        );
    }
    if !fixed_ok && reg.off != 0 {
        return fail(
            EACCES,
            format!(
                "dereference of modified {t} ptr R{regno} off={} disallowed",
                reg.off
            ),
        );
    }
    if !reg.s.is_const() || reg.s.value() != 0 {
        return fail(
            EACCES,
            format!(
                "variable {t} access var_off={} disallowed",
                reg.s.var_off.kernel_fmt()
            ),
        );
    }
    Ok(())
}

pub(crate) fn mem_ok(
    reg: &Reg,
    regno: u8,
    off: i64,
    size: i64,
    mem_size: i64,
    zero_ok: bool,
) -> Result<(), String> {
    let size_ok = size > 0 || (size == 0 && zero_ok);
    if off >= 0 && size_ok && off + size <= mem_size {
        return Ok(());
    }
    Err(match reg.ty {
        Ty::MapKey => format!("invalid access to map key, key_size={mem_size} off={off} size={size}"),
        Ty::MapValue => {
            format!("invalid access to map value, value_size={mem_size} off={off} size={size}")
        }
        Ty::Pkt | Ty::PktMeta | Ty::PktEnd => format!(
            "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={mem_size})",
            reg.id
        ),
        _ => format!("invalid access to memory, mem_size={mem_size} off={off} size={size}"),
    })
}

pub(crate) fn check_packet_access(
    regno: u8,
    reg: &Reg,
    off: i64,
    size: i64,
    zero_ok: bool,
) -> R<()> {
    if reg.s.smin < 0 {
        return fail(
            EACCES,
            format!("R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."),
        );
    }
    let res = if reg.range < 0 {
        Err(String::new())
    } else {
        mem_ok(reg, regno, off, size, reg.range as i64, zero_ok)
    };
    if let Err(first) = res {
        let last = format!("R{regno} offset is outside of the packet");
        if first.is_empty() {
            return fail(EACCES, last);
        }
        return fail2(EACCES, first, last);
    }
    Ok(())
}

pub(crate) fn check_sock_access(regno: u8, reg: &Reg, off: i64, size: i64) -> R<()> {
    let (ok, name) = match reg.ty {
        Ty::TcpSock => (
            (0..112).contains(&off)
                && off % size == 0
                && if off == 80 || off == 88 {
                    size == 8
                } else {
                    size == 4
                },
            "tcp_sock",
        ),
        Ty::SockCommon => (!(8..24).contains(&off) && sock_ok(off, size), "sock_common"),
        _ => (sock_ok(off, size), "sock"),
    };
    if !reg.s.is_const() || reg.s.value() != 0 {
        return fail(
            EACCES,
            format!("R{regno} variable offset {name} access prohibited"),
        );
    }
    if !ok {
        return fail(
            EACCES,
            format!("R{regno} invalid {name} access off={off} size={size}"),
        );
    }
    Ok(())
}

/// `bpf_sock_is_valid_access` on `struct bpf_sock` (80 bytes).
pub(crate) fn sock_ok(off: i64, size: i64) -> bool {
    if !(0..80).contains(&off) || off % size != 0 {
        return false;
    }
    let narrow = |fsize: i64| size <= fsize && (size & (size - 1)) == 0;
    match off {
        72 | 4 | 8 | 12 | 44 | 76 | 24..=27 | 28..=43 | 52..=55 | 56..=71 => narrow(4),
        48 | 49 => {
            if size == 4 {
                true
            } else {
                narrow(2)
            }
        }
        50 | 51 => false,
        _ => size == 4,
    }
}

impl Env<'_> {
    /// `BPF_LDX` (`check_load_mem`).
    pub(crate) fn check_ldx(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = opcode::size_bytes(insn.code);
        let sx = matches!(
            opcode::mode_form(insn.code),
            Some(Form::Load { signed: true, .. })
        );
        if sx && size == 8 {
            return fail(EINVAL, format!("unknown opcode {:02x}", insn.code));
        }
        self.check_reg_read(st, insn.src)?;
        self.check_reg_write(insn.dst)?;
        let base = self.reg(st, insn.src);
        let v = self.mem_access(st, insn.src, insn.off as i64, size, false, None, sx)?;
        if let Some(v) = v {
            self.set(st, insn.dst, v);
        }
        self.save_ptr_type(&base)
    }

    /// `BPF_ST`/`BPF_STX` in `BPF_MEM` mode (`check_store_reg`).
    pub(crate) fn check_store(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = opcode::size_bytes(insn.code);
        let stx = opcode::class(insn.code) == class::STX;
        if !matches!(opcode::mode_form(insn.code), Some(Form::Store { .. })) {
            return fail(
                EINVAL,
                if stx {
                    "BPF_STX uses reserved fields"
                } else {
                    "BPF_ST uses reserved fields"
                },
            );
        }
        let val = if stx {
            if insn.imm != 0 {
                return fail(EINVAL, "BPF_STX uses reserved fields");
            }
            Some(self.check_reg_read(st, insn.src)?)
        } else {
            if insn.src != 0 {
                return fail(EINVAL, "BPF_ST uses reserved fields");
            }
            None
        };
        let dst = self.check_reg_read(st, insn.dst)?;
        if !stx && dst.ty == Ty::Ctx {
            // `check_store_reg` lets BPF_ST into ctx through only for some types; the
            // access check below gives the kernel's message.
        }
        let stored = match val {
            Some(v) => StoreVal::Reg(insn.src, v),
            None => StoreVal::Imm(insn.imm),
        };
        self.mem_access(
            st,
            insn.dst,
            insn.off as i64,
            size,
            true,
            Some(stored),
            false,
        )?;
        self.save_ptr_type(&dst)
    }

    /// `BPF_ATOMIC` (`check_atomic`): a load and a store of the same location.
    pub(crate) fn check_atomic(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = opcode::size_bytes(insn.code);
        let imm = insn.imm as i32;
        let fetch = imm & 1 != 0;
        let base = imm & !1;
        let valid_ops = [AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor]
            .iter()
            .any(|o| o.imm() == base)
            || imm == AtomicOp::Xchg.imm()
            || imm == AtomicOp::CmpXchg.imm();
        if !valid_ops {
            if imm == AtomicOp::LoadAcquire.imm() {
                return self.check_atomic_load(st, insn);
            }
            if imm == AtomicOp::StoreRelease.imm() {
                return self.check_atomic_store(st, insn);
            }
            return fail(
                EINVAL,
                format!("BPF_ATOMIC uses invalid atomic opcode {imm:02x}"),
            );
        }
        if size != 4 && size != 8 {
            return fail(EINVAL, "invalid atomic operand size");
        }
        let src = self.check_reg_read(st, insn.src)?;
        let dst = self.check_reg_read(st, insn.dst)?;
        if imm == AtomicOp::CmpXchg.imm() {
            self.check_reg_read(st, 0)?;
        }
        if !self.prog.opts.privileged && src.is_ptr() {
            return fail(EACCES, format!("R{} leaks addr into mem", insn.src));
        }
        if matches!(
            dst.ty,
            Ty::Ctx
                | Ty::Pkt
                | Ty::PktMeta
                | Ty::FlowKeys
                | Ty::Sock
                | Ty::SockCommon
                | Ty::TcpSock
        ) {
            return fail(
                EACCES,
                format!(
                    "BPF_ATOMIC stores into R{} {} is not allowed",
                    insn.dst,
                    dst.type_name()
                ),
            );
        }
        let load_reg = if imm == AtomicOp::CmpXchg.imm() {
            Some(0u8)
        } else if fetch {
            Some(insn.src)
        } else {
            None
        };
        self.strict_once = true;
        let loaded = self.mem_access(st, insn.dst, insn.off as i64, size, false, None, false);
        self.strict_once = false;
        let loaded = loaded?;
        self.mem_access(
            st,
            insn.dst,
            insn.off as i64,
            size,
            true,
            Some(StoreVal::Reg(insn.src, src)),
            false,
        )?;
        if let Some(r) = load_reg {
            self.check_reg_write(r)?;
            let mut v = loaded.unwrap_or_else(Reg::unknown);
            if v.is_ptr() && !self.prog.opts.privileged {
                return fail(EACCES, format!("R{r} leaks addr into mem"));
            }
            if size < 8 && v.ty == Ty::Scalar {
                v.s.truncate(size as u32);
            }
            self.set(st, r, v);
        }
        Ok(())
    }

    /// `check_mem_access`: returns the loaded value for reads.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mem_access(
        &mut self,
        st: &mut State,
        regno: u8,
        off: i64,
        size: i64,
        write: bool,
        val: Option<StoreVal>,
        sx: bool,
    ) -> R<Option<Reg>> {
        let reg = self.reg(st, regno);
        self.check_alignment(&reg, off, size, self.strict_once)?;
        let off = off + reg.off as i64;
        let mut out: Option<Reg> = None;
        if reg.maybe_null {
            return fail(
                EACCES,
                format!("R{regno} invalid mem access '{}'", reg.type_name()),
            );
        }
        match reg.ty {
            Ty::MapKey => {
                if write {
                    return fail(EACCES, format!("write to change key R{regno} not allowed"));
                }
                let ks = self.map(&reg).key_size as i64;
                self.check_region(regno, &reg, off, size, ks, false)?;
                out = Some(Reg::unknown());
            }
            Ty::MapValue => {
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.prog.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into map"));
                        }
                    }
                }
                let m = self.map(&reg).clone();
                if write && m.flags & BPF_F_RDONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "write into map forbidden, value_size={} off={off} size={size}",
                            m.value_size
                        ),
                    );
                }
                if !write && m.flags & BPF_F_WRONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "read from map forbidden, value_size={} off={off} size={size}",
                            m.value_size
                        ),
                    );
                }
                self.check_map_access(regno, &reg, off, size, &m, false)?;
                out = Some(Reg::unknown());
            }
            Ty::RingbufMem => {
                self.check_region(regno, &reg, off, size, reg.mem_size as i64, false)?;
                out = Some(Reg::unknown());
            }
            Ty::Ctx => {
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.prog.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into ctx"));
                        }
                    }
                }
                check_ptr_off_reg(&reg, regno, false)?;
                if sx {
                    return fail(
                        EACCES,
                        format!("invalid bpf_context access off={off} size={size}"),
                    );
                }
                if !ctx::modelled(self.prog.opts.prog_type) {
                    return unsupported(format!(
                        "context of {} programs is not modelled",
                        self.prog.opts.prog_type
                    ));
                }
                match ctx::access(
                    self.prog.opts.prog_type,
                    self.prog.opts.expected_attach_type,
                    self.prog.opts.privileged,
                    off as i32,
                    size as i32,
                    write,
                ) {
                    None => {
                        return fail(
                            EACCES,
                            format!("invalid bpf_context access off={off} size={size}"),
                        );
                    }
                    Some(Field::Scalar) => out = Some(Reg::unknown()),
                    Some(Field::Ptr(t, null)) => {
                        let mut r = Reg::ptr(t);
                        r.maybe_null = null;
                        if null {
                            r.id = self.new_id();
                        }
                        out = Some(r);
                    }
                }
            }
            Ty::Stack => {
                let frame = reg.aux as usize;
                self.check_stack_bounds(st, regno, &reg, off, size, write, "")?;
                if write {
                    self.stack_write(st, frame, &reg, off, size, val)?;
                } else {
                    out = Some(self.stack_read(st, frame, &reg, off, size)?);
                }
            }
            Ty::Pkt | Ty::PktMeta => {
                if write && !self.may_access_pkt(true) {
                    return fail(EACCES, "cannot write into packet");
                }
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.prog.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into packet"));
                        }
                    }
                }
                check_packet_access(regno, &reg, off, size, false)?;
                out = Some(Reg::unknown());
            }
            Ty::FlowKeys => {
                if off < 0 || off + size > 56 {
                    return fail(
                        EACCES,
                        format!("invalid access to flow keys off={off} size={size}"),
                    );
                }
                out = Some(Reg::unknown());
            }
            Ty::Sock | Ty::SockCommon | Ty::TcpSock => {
                if write {
                    return fail(
                        EACCES,
                        format!("R{regno} cannot write into {}", reg.type_name()),
                    );
                }
                check_sock_access(regno, &reg, off, size)?;
                out = Some(Reg::unknown());
            }
            Ty::TpBuffer => {
                if !reg.s.is_const() || reg.s.value() != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "R{regno} invalid variable buffer offset: off={off}, var_off={}",
                            reg.s.var_off.kernel_fmt()
                        ),
                    );
                }
                if off < 0 {
                    return fail(
                        EACCES,
                        format!(
                            "R{regno} invalid tracepoint buffer access: off={off}, size={size}"
                        ),
                    );
                }
                out = Some(Reg::unknown());
            }
            Ty::BtfPtr => {
                return unsupported("BTF-typed kernel pointers are not modelled");
            }
            Ty::MapPtr => {
                // `check_ptr_to_map_access`: a map's kernel struct, read-only through BTF.
                let m = self.map(&reg);
                let tname = match m.map_type {
                    MapType::Array | MapType::PercpuArray | MapType::ProgArray => "bpf_array",
                    MapType::Hash | MapType::PercpuHash | MapType::LruHash => "bpf_htab",
                    _ => "bpf_map",
                };
                if write {
                    return fail(EACCES, format!("only read from {tname} is supported"));
                }
                return unsupported("reading map fields needs kernel BTF");
            }
            _ => {
                return fail(
                    EACCES,
                    format!("R{regno} invalid mem access '{}'", reg.type_name()),
                );
            }
        }
        if write {
            return Ok(None);
        }
        if let Some(v) = out.as_mut() {
            if size < 8 && v.ty == Ty::Scalar {
                if sx {
                    v.s.sign_extend(size as u32);
                } else {
                    v.s.truncate(size as u32);
                }
            }
        }
        Ok(out)
    }

    /// `save_aux_ptr_type`: one load/store instruction may not see the context (or a
    /// socket) on one path and another pointer type on another, because the kernel rewrites
    /// context accesses in place.
    pub(crate) fn save_ptr_type(&mut self, base: &Reg) -> R<()> {
        let t = (base.ty, base.maybe_null);
        let special = |t: Ty| matches!(t, Ty::Ctx | Ty::Sock | Ty::SockCommon | Ty::TcpSock);
        match self.ptr_types.get(&self.trace.pc) {
            None => {
                self.ptr_types.insert(self.trace.pc, t);
            }
            Some(&prev) => {
                if prev != t && (special(prev.0) || special(t.0)) {
                    return fail(EINVAL, "same insn cannot be used with different pointers");
                }
            }
        }
        Ok(())
    }

    pub(crate) fn map(&self, reg: &Reg) -> &MapSpec {
        &self.prog.maps[reg.aux as usize]
    }

    pub(crate) fn may_access_pkt(&self, write: bool) -> bool {
        use ProgType::*;
        match self.prog.opts.prog_type {
            LwtIn | LwtOut | LwtSeg6local | SkReuseport | FlowDissector | CgroupSkb => !write,
            SchedCls | SchedAct | Xdp | LwtXmit | SkSkb | SkMsg => true,
            CgroupSockopt => true,
            _ => false,
        }
    }

    pub(crate) fn check_alignment(&self, reg: &Reg, off: i64, size: i64, once: bool) -> R<()> {
        let strict = (self.prog.opts.strict_alignment && !self.prog.opts.any_alignment) || once;
        let (desc, strict) = match reg.ty {
            Ty::Pkt | Ty::PktMeta => {
                if !strict || size == 1 {
                    return Ok(());
                }
                let ip_align = 2i64;
                let t = reg
                    .s
                    .var_off
                    .add(Tnum::konst((ip_align + reg.off as i64 + off) as u64));
                if !t.is_aligned(size as u64) {
                    return fail(
                        EACCES,
                        format!(
                            "misaligned packet access off {}+{}+{}+{} size {}",
                            ip_align,
                            tnum_short(reg.s.var_off),
                            reg.off,
                            off,
                            size
                        ),
                    );
                }
                return Ok(());
            }
            Ty::FlowKeys => ("flow keys ", strict),
            Ty::MapKey => ("key ", strict),
            Ty::MapValue => ("value ", strict),
            Ty::Ctx => ("context ", strict),
            Ty::Stack => ("stack ", true),
            Ty::Sock | Ty::SockCommon | Ty::TcpSock => ("sock ", strict),
            _ => ("", strict),
        };
        if !strict || size == 1 {
            return Ok(());
        }
        let t = reg
            .s
            .var_off
            .add(Tnum::konst((reg.off as i64 + off) as u64));
        if !t.is_aligned(size as u64) {
            return fail(
                EACCES,
                format!(
                    "misaligned {desc}access off {}+{}+{} size {}",
                    tnum_short(reg.s.var_off),
                    reg.off,
                    off,
                    size
                ),
            );
        }
        Ok(())
    }

    pub(crate) fn check_region(
        &self,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        mem_size: i64,
        zero_ok: bool,
    ) -> R<()> {
        let s = &reg.s;
        if s.smin < 0
            && (s.smin == i64::MIN
                || (off + s.smin) != (off + s.smin) as i32 as i64
                || s.smin + off < 0)
        {
            return fail(
                EACCES,
                format!("R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."),
            );
        }
        if let Err(first) = mem_ok(reg, regno, s.smin + off, size, mem_size, zero_ok) {
            return fail2(
                EACCES,
                first,
                format!("R{regno} min value is outside of the allowed memory range"),
            );
        }
        if s.umax >= MAX_VAR_OFF as u64 {
            return fail(
                EACCES,
                format!(
                    "R{regno} unbounded memory access, make sure to bounds check any such access"
                ),
            );
        }
        if let Err(first) = mem_ok(reg, regno, s.umax as i64 + off, size, mem_size, zero_ok) {
            return fail2(
                EACCES,
                first,
                format!("R{regno} max value is outside of the allowed memory range"),
            );
        }
        Ok(())
    }

    /// `check_map_access`: bounds within the value and the special fields it must not touch.
    pub(crate) fn check_map_access(
        &self,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        m: &MapSpec,
        zero_ok: bool,
    ) -> R<()> {
        self.check_region(regno, reg, off, size, m.value_size as i64, zero_ok)?;
        let lo = reg.s.smin + off;
        let hi = reg.s.umax as i64 + off + size;
        if let Some(l) = m.value_fields.spin_lock {
            if lo < l as i64 + 4 && (l as i64) < hi {
                return fail(
                    EACCES,
                    "bpf_spin_lock cannot be accessed directly by load/store",
                );
            }
        }
        if let Some(t) = m.value_fields.timer {
            if lo < t as i64 + 16 && (t as i64) < hi {
                return fail(
                    EACCES,
                    "bpf_timer cannot be accessed directly by load/store",
                );
            }
        }
        Ok(())
    }
}
