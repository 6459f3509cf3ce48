//! Helper calls (`check_helper_call`): argument types, memory arguments, map compatibility,
//! reference tracking and spin locks.

use crate::check::insn::callback;
use crate::check::insn::mem::{check_packet_access, check_ptr_off_reg};
use crate::check::{expect_type, fail, unsupported, Env, Fail, MAX_VAR_OFF, R};
use crate::helpers::{Arg, Ret};
use crate::scalar::Scalar;
use crate::state::{Frame, RefState, Reg, Slot, StackSlot, State, Ty};
use crate::{helpers, RejectKind, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, EACCES, EINVAL};
use asm::types::helpers::HelperFlags;
use asm::types::{MapType, ProgType};

impl Env<'_> {
    /// `check_helper_call`: arguments against the helper's prototype, then r0 and side effects.
    pub(crate) fn check_helper_call(&mut self, st: &mut State, pc: usize) -> R<()> {
        let insn = self.prog.insns[pc];
        let id = insn.imm;
        // The order of check_helper_call() in kernel/bpf/verifier.c: the id, the type's
        // *_func_proto, the licence, then the prototype's own checks.
        if !(0..i64::from(asm::types::helpers::MAX_ID)).contains(&id) {
            return fail(EINVAL, format!("invalid func {}#{}", helpers::name(id), id));
        }
        let pt = self.prog.opts.prog_type;
        if pt == ProgType::Ext {
            // An extension takes its target's get_func_proto; bpfx has no target.
            return unsupported("helper calls from ext programs (their target decides)");
        }
        // Capability-gated parts of bpf_base_func_proto (CAP_BPF / CAP_PERFMON); 14-17,
        // 112 and 114 joined the CAP_PERFMON part when they were opened to every type.
        let needs_caps = matches!(
            id,
            6 | 14..=17 | 35 | 93 | 94 | 112..=115 | 153 | 154 | 164 | 169..=172 | 181 | 209
        );
        let p = match helpers::proto(id as u32) {
            Some(p)
                if helpers::available(p, pt, self.prog.opts.expected_attach_type.unwrap_or(0))
                    && (!needs_caps || self.prog.opts.privileged) =>
            {
                p
            }
            // Helper 0 (`bpf_unspec`) has no prototype: every type refuses it like this.
            _ => {
                return fail(
                    EINVAL,
                    format!(
                        "program of this type cannot use helper {}#{}",
                        helpers::name(id),
                        id
                    ),
                )
            }
        };
        if helpers::gpl_only(p, pt) && !helpers::license_is_gpl_compatible(&self.prog.opts.license)
        {
            return fail(
                EINVAL,
                "cannot call GPL-restricted function from non-GPL compatible program",
            );
        }
        let row = p.helper;
        if id == 46 && pt == ProgType::SkReuseport {
            // sk_reuseport_func_proto() answers with bpf_get_socket_ptr_cookie_proto, whose
            // argument is a BTF socket pointer, not the table's context one.
            return unsupported("bpf_get_socket_cookie#46 in sk_reuseport (a BTF socket argument)");
        }
        if id == 173
            && matches!(
                pt,
                ProgType::Tracepoint
                    | ProgType::PerfEvent
                    | ProgType::RawTracepoint
                    | ProgType::RawTracepointWritable
            )
        {
            // 6.18 offers bpf_get_func_ip to these types through bpf_tracing_func_proto but
            // the call cannot be resolved for them (measured: ENOTSUPP, this message).
            return fail(
                524,
                format!(
                    "func {}#{} not supported for program type {}",
                    helpers::name(id),
                    id,
                    pt.number()
                ),
            );
        }
        if row.flags.has(HelperFlags::ALLOWED_CHECK) {
            // fn->allowed(): the attach point decides (d_path, tracing sk_storage ...).
            return unsupported(format!(
                "helper bpf_{}#{}: the kernel checks the attach point",
                p.name, id
            ));
        }
        if row.flags.has(HelperFlags::MIGHT_SLEEP) && !self.prog.opts.sleepable {
            return fail(EINVAL, "helper call might sleep in a non-sleepable prog");
        }
        if !p.fully_modelled() {
            return unsupported(format!(
                "helper bpf_{}#{}: an argument or return type bpfx does not model",
                p.name, id
            ));
        }
        let pkt_access = row.flags.has(HelperFlags::PKT_ACCESS);
        let mut map: Option<u32> = None;
        let mut release_reg: Option<u8> = None;
        let mut alloc_size: u32 = 0;
        let mut msize_max: u64 = 0;
        let mut prev_mem: Option<(u8, bool)> = None; // (regno, uninit)
        let mut callback: Option<usize> = None;
        for (k, a) in p.args.iter().enumerate() {
            let regno = k as u8 + 1;
            let reg = self.check_reg_read(st, regno)?;
            if a == &Arg::Any {
                if reg.is_ptr() && !self.prog.opts.privileged {
                    return fail(EACCES, format!("R{regno} leaks addr into helper function"));
                }
                continue;
            }
            if reg.is_pkt()
                && !matches!(a, Arg::Ctx)
                && !(pkt_access && self.may_access_pkt(false))
                && matches!(
                    a,
                    Arg::Mem | Arg::MemOrNull | Arg::UninitMem | Arg::MapKey | Arg::MapValue
                )
            {
                return fail(EACCES, "helper access to the packet is not allowed");
            }
            let is_null = reg.ty == Ty::Scalar && reg.s == Scalar::known(0);
            match a {
                Arg::MapPtr => {
                    expect_type(regno, &reg, &[Ty::MapPtr], "map_ptr")?;
                    if let Some(timer_map) = map {
                        // bpf_timer_init: the map must be the timer's own
                        // (`map_ptr`/`map_uid` of the timer argument).
                        if timer_map != reg.aux {
                            return fail(
                                EINVAL,
                                format!(
                                    "timer pointer in R1 map_uid=0 doesn't match map pointer in R{regno} map_uid=0"
                                ),
                            );
                        }
                    }
                    map = Some(reg.aux);
                }
                Arg::Timer => {
                    expect_type(regno, &reg, &[Ty::MapValue], "map_value")?;
                    self.process_timer_func(regno, &reg)?;
                    map = Some(reg.aux);
                }
                Arg::MapValue
                    if map.is_some_and(|m| {
                        matches!(
                            self.prog.maps[m as usize].map_type,
                            MapType::Sockmap | MapType::Sockhash
                        )
                    }) =>
                {
                    // `resolve_map_arg_type`: a sockmap's value is a socket
                    // (ARG_PTR_TO_BTF_ID_SOCK_COMMON).
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::SockCommon, Ty::Sock, Ty::TcpSock],
                        "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
                    )?;
                    check_ptr_off_reg(&reg, regno, false)?;
                }
                Arg::MapKey | Arg::MapValue => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::Stack, Ty::Pkt, Ty::PktMeta, Ty::MapKey, Ty::MapValue],
                        // check_reg_type() prints all of map_key_value_types, including
                        // the kinds bpfx never produces here (mem, buf, trusted BTF).
                        "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    )?;
                    let Some(m) = map else {
                        return fail(EACCES, "invalid map_ptr to access map->key");
                    };
                    let md = &self.prog.maps[m as usize];
                    let size = if matches!(a, Arg::MapKey) {
                        md.key_size
                    } else {
                        md.value_size
                    };
                    self.helper_mem(st, regno, size as i64, false, false)?;
                }
                Arg::Mem | Arg::MemOrNull | Arg::UninitMem => {
                    if is_null && matches!(a, Arg::MemOrNull) {
                        prev_mem = Some((regno, false));
                        continue;
                    }
                    expect_type(
                        regno,
                        &reg,
                        &[
                            Ty::Stack,
                            Ty::Pkt,
                            Ty::PktMeta,
                            Ty::MapKey,
                            Ty::MapValue,
                            Ty::RingbufMem,
                        ],
                        "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    )?;
                    prev_mem = Some((regno, matches!(a, Arg::UninitMem)));
                }
                Arg::Size | Arg::SizeOrZero => {
                    expect_type(regno, &reg, &[Ty::Scalar], "scalar")?;
                    let zero_ok = matches!(a, Arg::SizeOrZero);
                    let s = reg.s;
                    if s.smin < 0 {
                        return fail(
                            EACCES,
                            format!("R{regno} min value is negative, either use unsigned or 'var &= const'"),
                        );
                    }
                    if s.umin == 0 && !zero_ok {
                        return fail(
                            EACCES,
                            format!(
                                "R{regno} invalid zero-sized read: u64=[{},{}]",
                                s.umin as i64, s.umax
                            ),
                        );
                    }
                    if s.umax >= MAX_VAR_OFF as u64 {
                        return fail(
                            EACCES,
                            format!("R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'"),
                        );
                    }
                    if let Some((mreg, uninit)) = prev_mem {
                        self.helper_mem(st, mreg, s.umax as i64, zero_ok, uninit)?;
                        if uninit {
                            self.mark_helper_written(st, mreg, s.umax as i64);
                        }
                        msize_max = s.umax;
                    }
                }
                Arg::AllocSize => {
                    expect_type(regno, &reg, &[Ty::Scalar], "scalar")?;
                    if !reg.s.is_const() {
                        return fail(EACCES, format!("R{regno} is not a known constant'"));
                    }
                    alloc_size = reg.s.value() as u32;
                }
                Arg::CtxOrNull if is_null => {}
                Arg::Ctx | Arg::CtxOrNull => {
                    expect_type(regno, &reg, &[Ty::Ctx], "ctx")?;
                    check_ptr_off_reg(&reg, regno, false)?;
                }
                Arg::SpinLock => {
                    expect_type(regno, &reg, &[Ty::MapValue], "map_value, ptr_")?;
                    self.process_spin_lock(st, regno, &reg, id == 93)?;
                }
                Arg::SockCommon => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::SockCommon, Ty::Sock, Ty::TcpSock],
                        "sock_common, sock, tcp_sock, xdp_sock",
                    )?;
                    check_ptr_off_reg(&reg, regno, false)?;
                }
                Arg::SockRelease => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::SockCommon, Ty::Sock, Ty::TcpSock],
                        "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
                    )?;
                    self.release_arg(regno, &reg)?;
                    release_reg = Some(regno);
                }
                Arg::RingbufRelease => {
                    expect_type(regno, &reg, &[Ty::RingbufMem], "ringbuf_mem")?;
                    self.release_arg(regno, &reg)?;
                    release_reg = Some(regno);
                }
                Arg::Long => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::Stack, Ty::Pkt, Ty::PktMeta, Ty::MapKey, Ty::MapValue],
                        "fp, pkt, pkt_meta, map_key, map_value",
                    )?;
                    self.helper_mem(st, regno, 8, false, true)?;
                    self.check_alignment(&reg, 0, 8, true)?;
                    self.mark_helper_written(st, regno, 8);
                }
                Arg::Func => {
                    // ARG_PTR_TO_FUNC: `meta->subprogno`.
                    expect_type(regno, &reg, &[Ty::Func], "func")?;
                    callback = Some(reg.aux as usize);
                }
                Arg::StackOrNull if is_null => {}
                Arg::StackOrNull => {
                    // ARG_PTR_TO_STACK_OR_NULL (a callback's context): the type only.
                    expect_type(regno, &reg, &[Ty::Stack], "fp")?;
                }
                // Declined before the arguments are read (see above).
                Arg::Any | Arg::Btf | Arg::Unmodelled(_) => {}
            }
        }
        if let Some(m) = map {
            self.check_map_func(m, id as u32)?;
        }
        if let Some(sub) = callback {
            if callback::is_async_callback_helper(id) {
                self.async_subs.insert(sub);
            }
            self.push_callback_call(st, pc, id as u32, sub, map)?;
        }
        if let Some(r) = release_reg {
            let reg = self.reg(st, r);
            let rid = reg.ref_id;
            st.refs.retain(|x| x.id != rid);
            // `release_reference` -> `mark_reg_invalid`: every register and spill holding
            // a pointer derived from the reference (same ref_obj_id) becomes unusable.
            let privileged = self.prog.opts.privileged;
            st.for_each_reg(|x| {
                if x.ref_id == rid {
                    *x = if privileged {
                        Reg::unknown()
                    } else {
                        Reg::NOT_INIT
                    };
                }
            });
        }
        if id == 12 && !st.refs.is_empty() {
            let lines = self.ref_leak_lines(st, "tail_call");
            return Err(Fail {
                lines,
                errno: EINVAL,
                kind: RejectKind::Kernel,
            });
        }
        if id == 81 {
            let r2 = self.reg(st, 2);
            if !(r2.ty == Ty::Scalar && r2.s == Scalar::known(0)) {
                return fail(EINVAL, "get_local_storage() doesn't support non-zero flags");
            }
        }
        let never_null = id == 1 && self.lookup_never_null(st, map);
        for r in 0..=5 {
            self.set(st, r, Reg::NOT_INIT);
        }
        let lookup_kind = match (id, map.map(|m| self.prog.maps[m as usize].map_type)) {
            (1, Some(MapType::Sockmap | MapType::Sockhash)) => 1,
            (1, Some(MapType::ArrayOfMaps | MapType::HashOfMaps)) => 2,
            _ => 0,
        };
        let mut r0 = match p.ret {
            Ret::MapValueOrNull if lookup_kind == 1 => {
                let mut r = Reg::ptr(Ty::Sock);
                r.maybe_null = true;
                r
            }
            Ret::MapValueOrNull if lookup_kind == 2 => {
                // A map_value_or_null that becomes the inner map pointer once checked
                // (`mark_ptr_or_null_reg` with `inner_map_meta`).
                let mut r = Reg::ptr(Ty::MapValue);
                r.maybe_null = true;
                let outer = map.unwrap_or(0) as usize;
                r.mem_size = 1 + self
                    .prog
                    .inner_of
                    .get(outer)
                    .copied()
                    .flatten()
                    .unwrap_or(0);
                r
            }
            Ret::Int => Reg::unknown(),
            Ret::Void => Reg::NOT_INIT,
            Ret::MapValueOrNull | Ret::MapValue => {
                let mut r = Reg::ptr(Ty::MapValue);
                r.aux = map.unwrap_or(0);
                r.maybe_null = matches!(p.ret, Ret::MapValueOrNull) && !never_null;
                if !r.maybe_null
                    && self.prog.maps[r.aux as usize]
                        .value_fields
                        .spin_lock
                        .is_some()
                {
                    r.id = self.new_id();
                }
                r
            }
            Ret::SockOrNull | Ret::SockNoRefOrNull => {
                let mut r = Reg::ptr(Ty::Sock);
                r.maybe_null = true;
                r
            }
            Ret::TcpSockOrNull => {
                let mut r = Reg::ptr(Ty::TcpSock);
                r.maybe_null = true;
                r
            }
            Ret::RingbufOrNull => {
                let mut r = Reg::ptr(Ty::RingbufMem);
                r.maybe_null = true;
                r.mem_size = alloc_size;
                r
            }
            Ret::Btf | Ret::Unmodelled => Reg::unknown(),
        };
        if r0.maybe_null {
            r0.id = self.new_id();
        }
        if matches!(id, 67 | 141 | 45 | 115 | 114) {
            // `do_refine_retval_range`: at most the buffer size, at least -MAX_ERRNO.
            r0.s.smax = msize_max as i64;
            r0.s.s32_max = msize_max as i32;
            r0.s.smin = -4095;
            r0.s.s32_min = -4095;
            r0.s.sync();
        }
        if matches!(p.ret, Ret::SockOrNull | Ret::RingbufOrNull) || lookup_kind == 1 {
            let id = self.new_id();
            st.refs.push(RefState { id, insn: pc });
            r0.id = id;
            r0.ref_id = id;
        }
        self.set(st, 0, r0);
        if matches!(
            id,
            9 | 10 | 11 | 13 | 18 | 19 | 31 | 38 | 39 | 43 | 44 | 50 | 54 | 65
        ) {
            // `bpf_helper_changes_pkt_data`: every packet pointer is stale.
            let privileged = self.prog.opts.privileged;
            st.for_each_reg(|x| {
                if x.is_pkt() || x.ty == Ty::PktEnd {
                    *x = if privileged {
                        Reg::unknown()
                    } else {
                        Reg::NOT_INIT
                    };
                }
            });
        }
        Ok(())
    }

    pub(crate) fn release_arg(&self, regno: u8, reg: &Reg) -> R<()> {
        if reg.ref_id == 0 {
            return fail(
                EINVAL,
                format!("R{regno} must be referenced when passed to release function"),
            );
        }
        if reg.off != 0 || !reg.s.is_const() || reg.s.value() != 0 {
            return fail(
                EINVAL,
                format!(
                    "R{regno} must have zero offset when passed to release func or trusted arg to kfunc"
                ),
            );
        }
        Ok(())
    }

    /// Whether `bpf_map_lookup_elem` cannot return NULL: an array (or per-CPU array)
    /// looked up with a constant key below `max_entries` that sits on the stack as known
    /// zero bytes or a spilled constant of the key's size (`can_elide_value_nullness`,
    /// `get_constant_map_key`; privileged programs only).
    pub(crate) fn lookup_never_null(&self, st: &State, map: Option<u32>) -> bool {
        let Some(md) = map.and_then(|m| self.prog.maps.get(m as usize)) else {
            return false;
        };
        if !self.prog.opts.privileged
            || !matches!(md.map_type, MapType::Array | MapType::PercpuArray)
        {
            return false;
        }
        let key = self.reg(st, 2);
        if key.ty != Ty::Stack || !key.s.is_const() {
            return false;
        }
        let off = key.off as i64 + key.s.value() as i64;
        if off >= 0 {
            return false;
        }
        let si = ((-off - 1) / 8) as usize;
        // The kernel's slot_type index (higher addresses at lower indexes).
        let k = ((-off - 1) % 8) as usize;
        let Some(slot) = st
            .frames
            .get(key.aux as usize)
            .and_then(|f| f.stack.get(si))
        else {
            return false;
        };
        // Bytes from the key's address upwards, as get_constant_map_key walks them.
        let run = |kind: Slot| {
            slot.bytes[..=k]
                .iter()
                .rev()
                .take_while(|x| **x == kind)
                .count()
        };
        let ks = md.key_size as usize;
        let value = if run(Slot::Zero) >= ks {
            0
        } else if slot.bytes[7] == Slot::Spill
            && run(Slot::Spill) == ks
            && slot.spilled.ty == Ty::Scalar
            && slot.spilled.s.is_const()
        {
            slot.spilled.s.value()
        } else {
            return false;
        };
        value < md.max_entries as u64
    }

    /// `process_timer_func`: the argument points at the map value's `struct bpf_timer`.
    pub(crate) fn process_timer_func(&self, regno: u8, reg: &Reg) -> R<()> {
        if !reg.s.is_const() {
            return fail(
                EINVAL,
                format!("R{regno} doesn't have constant offset. bpf_timer has to be at the constant offset"),
            );
        }
        let m = self.map(reg);
        // bpfx knows a map's fields only from its BTF: a map without a timer field is taken
        // as one without BTF, as for spin locks.
        let Some(t) = m.value_fields.timer else {
            return fail(
                EINVAL,
                format!("map '{}' has to have BTF in order to use bpf_timer", m.name),
            );
        };
        let val = reg.s.value() as i64 + reg.off as i64;
        if val != t as i64 {
            return fail(
                EINVAL,
                format!("off {val} doesn't point to 'struct bpf_timer' that is at {t}"),
            );
        }
        Ok(())
    }

    pub(crate) fn process_spin_lock(
        &mut self,
        st: &mut State,
        regno: u8,
        reg: &Reg,
        lock: bool,
    ) -> R<()> {
        let lock_str = "bpf_spin";
        if !reg.s.is_const() {
            return fail(
                EINVAL,
                format!("R{regno} doesn't have constant offset. {lock_str}_lock has to be at the constant offset"),
            );
        }
        let m = self.map(reg).clone();
        let Some(lo) = m.value_fields.spin_lock else {
            return fail(
                EINVAL,
                format!(
                    "map '{}' has to have BTF in order to use {lock_str}_lock",
                    m.name
                ),
            );
        };
        let val = reg.s.value() as i64 + reg.off as i64;
        if val != lo as i64 {
            return fail(
                EINVAL,
                format!("off {val} doesn't point to 'struct {lock_str}_lock' that is at {lo}"),
            );
        }
        if lock {
            if st.lock.is_some() {
                return fail(EINVAL, "Locking two bpf_spin_locks are not allowed");
            }
            st.lock = Some((reg.aux, reg.id));
        } else {
            match st.lock {
                None => return fail(EINVAL, format!("{lock_str}_unlock without taking a lock")),
                Some((mp, id)) if mp != reg.aux || id != reg.id => {
                    return fail(EINVAL, format!("{lock_str}_unlock of different lock"));
                }
                _ => st.lock = None,
            }
        }
        Ok(())
    }

    /// `check_helper_mem_access`.
    pub(crate) fn helper_mem(
        &mut self,
        st: &mut State,
        regno: u8,
        size: i64,
        zero_ok: bool,
        write: bool,
    ) -> R<()> {
        let reg = self.reg(st, regno);
        match reg.ty {
            Ty::Pkt | Ty::PktMeta => {
                check_packet_access(regno, &reg, reg.off as i64, size, zero_ok)
            }
            Ty::MapKey => {
                if write {
                    return fail(
                        EACCES,
                        format!("R{regno} cannot write into {}", reg.type_name()),
                    );
                }
                let ks = self.map(&reg).key_size as i64;
                self.check_region(regno, &reg, reg.off as i64, size, ks, false)
            }
            Ty::MapValue => {
                let m = self.map(&reg).clone();
                if write && m.flags & BPF_F_RDONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "write into map forbidden, value_size={} off={} size={size}",
                            m.value_size, reg.off
                        ),
                    );
                }
                if !write && m.flags & BPF_F_WRONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "read from map forbidden, value_size={} off={} size={size}",
                            m.value_size, reg.off
                        ),
                    );
                }
                self.check_map_access(regno, &reg, reg.off as i64, size, &m, zero_ok)
            }
            Ty::RingbufMem => self.check_region(
                regno,
                &reg,
                reg.off as i64,
                size,
                reg.mem_size as i64,
                zero_ok,
            ),
            Ty::Stack => {
                if size == 0 && !zero_ok {
                    return fail(EACCES, "invalid zero-sized read");
                }
                self.check_stack_bounds(st, regno, &reg, reg.off as i64, size, write, "helper")?;
                if write {
                    return Ok(());
                }
                let (min_off, max_off) = if reg.s.is_const() {
                    let m = reg.s.value() as i64 + reg.off as i64;
                    (m, m)
                } else {
                    (reg.s.smin + reg.off as i64, reg.s.smax + reg.off as i64)
                };
                let frame = reg.aux as usize;
                for a in min_off..max_off + size {
                    let si = Frame::slot_index(a);
                    let bi = ((-a - 1) % 8) as usize;
                    let slot = st.frames[frame]
                        .stack
                        .get(si)
                        .copied()
                        .unwrap_or(StackSlot::EMPTY);
                    let t = slot.bytes[bi];
                    let ok = match t {
                        Slot::Misc | Slot::Zero => true,
                        Slot::Invalid => self.prog.opts.privileged,
                        Slot::Spill => slot.spilled.ty == Ty::Scalar || self.prog.opts.privileged,
                    };
                    if !ok {
                        if reg.s.is_const() {
                            return fail(
                                EACCES,
                                format!(
                                    "invalid read from stack R{regno} off {min_off}+{} size {size}",
                                    a - min_off
                                ),
                            );
                        }
                        return fail(
                            EACCES,
                            format!(
                                "invalid read from stack R{regno} var_off {}+{} size {size}",
                                reg.s.var_off.kernel_fmt(),
                                a - min_off
                            ),
                        );
                    }
                }
                Ok(())
            }
            Ty::Ctx if self.prog.opts.prog_type == ProgType::Syscall => {
                if size == 0 {
                    return if zero_ok {
                        Ok(())
                    } else {
                        fail(EACCES, "invalid zero-sized read")
                    };
                }
                self.mem_access(st, regno, size - 1, 1, write, None, false)
                    .map(|_| ())
            }
            _ => {
                if zero_ok && size == 0 && reg.ty == Ty::Scalar && reg.s == Scalar::known(0) {
                    return Ok(());
                }
                fail(
                    EACCES,
                    format!("R{regno} type={} expected=fp", reg.type_name()),
                )
            }
        }
    }

    pub(crate) fn mark_helper_written(&mut self, st: &mut State, regno: u8, size: i64) {
        let reg = self.reg(st, regno);
        if reg.ty != Ty::Stack {
            return;
        }
        let frame = reg.aux as usize;
        if !reg.s.is_const() {
            return;
        }
        let base = reg.s.value() as i64 + reg.off as i64;
        for a in base..base + size {
            let si = Frame::slot_index(a);
            let bi = ((-a - 1) % 8) as usize;
            if let Some(slot) = st.frames[frame].stack.get_mut(si) {
                if slot.bytes[7] == Slot::Spill {
                    for b in slot.bytes.iter_mut() {
                        if *b == Slot::Spill {
                            *b = Slot::Misc;
                        }
                    }
                    slot.spilled = Reg::NOT_INIT;
                }
                slot.bytes[bi] = Slot::Misc;
            }
        }
    }
}
