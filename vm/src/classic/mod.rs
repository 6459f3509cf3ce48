//! Classic BPF with the kernel's semantics (`net/core/filter.c`: `bpf_convert_filter()` and
//! the helpers it calls; `kernel/seccomp.c`), as measured on 6.18 (see
//! `shared/seccomp/README.md`):
//!
//! - A and X start at 0; ALU is 32-bit wrapping; compares are unsigned.
//! - Division or modulo by X = 0 ends the program returning 0.
//! - Shifts by X use `X & 31` (what the x86-64 JIT does with a 32-bit shift).
//! - Socket filters: packet loads are big-endian; a load outside the packet ends the
//!   program returning 0; negative offsets go through `SKF_NET_OFF` / `SKF_LL_OFF`;
//!   ancillary loads read the [`SkbContext`].
//! - Seccomp: loads read `struct seccomp_data` in host byte order; `len` is 64.
//!
//! The VM runs any decodable program (the kernel's [`asm::cbpf::check`] is separate); a
//! jump out of the program or an instruction that has no meaning for the input is a
//! [`RunError`].

mod possible;
pub use possible::{possible_returns, possible_stack, Possible};

use asm::cbpf::{
    ancillary, lookup, AluOp, Form, JmpOp, Size, SockFilter, Src, SKF_LL_OFF, SKF_NET_OFF,
};

/// The socket-buffer fields ancillary loads read (`SKF_AD_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkbContext {
    /// `skb->protocol` in host order (`#proto` gives it, e.g. 0x0800).
    pub protocol: u16,
    /// `skb->pkt_type` (`#type`).
    pub pkt_type: u32,
    /// `skb->dev->ifindex` (`#ifidx`).
    pub ifindex: u32,
    /// `skb->mark` (`#mark`).
    pub mark: u32,
    /// `skb->queue_mapping` (`#queue`).
    pub queue: u16,
    /// `skb->dev->type` (`#hatype`).
    pub hatype: u16,
    /// `skb->hash` (`#rxhash`).
    pub rxhash: u32,
    /// The CPU (`#cpu`).
    pub cpu: u32,
    /// `skb->vlan_tci` (`#vlan_tci`).
    pub vlan_tci: u16,
    /// Whether a VLAN tag is present (`#vlan_avail`).
    pub vlan_present: bool,
    /// `skb->vlan_proto` in host order (`#vlan_tpid`).
    pub vlan_tpid: u16,
    /// The payload offset (`#poff`).
    pub payload_offset: u32,
    /// What `#rand` returns.
    pub random: u32,
    /// Where the network header starts in the packet (`SKF_NET_OFF` loads), if anywhere.
    pub network_offset: Option<usize>,
    /// Where the link-layer header starts in the packet (`SKF_LL_OFF` loads), if anywhere.
    pub mac_offset: Option<usize>,
    /// The packet has no device (`skb->dev == NULL`, as for AF_UNIX): `#ifidx` and
    /// `#hatype` then end the program returning A (`convert_bpf_extensions()`).
    pub no_device: bool,
}

impl SkbContext {
    /// What a filter on an AF_UNIX socket sees: no device, every field 0.
    pub fn unix() -> SkbContext {
        SkbContext {
            no_device: true,
            ..SkbContext::default()
        }
    }
}

/// `struct seccomp_data`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeccompData {
    /// System call number.
    pub nr: u32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// Where the system call was made.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 64 bytes a filter loads from, in host byte order.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

/// Why a program could not run to a return.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Control left the program.
    #[error("instruction {index}: jump leaves the program")]
    OutOfProgram {
        /// The jump.
        index: usize,
    },
    /// An opcode that is not classic BPF.
    #[error("instruction {index}: unknown opcode {code:#06x}")]
    UnknownOpcode {
        /// Where.
        index: usize,
        /// The opcode.
        code: u16,
    },
    /// A load seccomp cannot do (the kernel's checker rejects it).
    #[error("instruction {index}: this load has no meaning for a seccomp filter")]
    NotSeccomp {
        /// Where.
        index: usize,
    },
    /// `M[k]` with `k >= 16`.
    #[error("instruction {index}: M[{k}] does not exist")]
    BadMem {
        /// Where.
        index: usize,
        /// The index.
        k: u32,
    },
    /// The program ran past its last instruction.
    #[error("the program ends without a return")]
    FellOff,
}

/// The result of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The return value.
    pub ret: u32,
    /// Instructions executed.
    pub steps: usize,
    /// For seccomp: whether the path read `instruction_pointer` or an argument (when it
    /// did not, the result is the same for every argument value).
    pub read_args: bool,
}

enum Input<'a> {
    Packet(&'a [u8], &'a SkbContext),
    Seccomp(&'a [u8; 64]),
}

/// Runs a socket filter over `packet`; the return value is the number of bytes to keep.
pub fn run_socket(
    prog: &[SockFilter],
    packet: &[u8],
    ctx: &SkbContext,
) -> Result<Outcome, RunError> {
    run(prog, Input::Packet(packet, ctx))
}

/// Runs a seccomp filter.
pub fn run_seccomp(prog: &[SockFilter], data: &SeccompData) -> Result<Outcome, RunError> {
    run(prog, Input::Seccomp(&data.to_bytes()))
}

/// A big-endian load of `size` bytes at `off` into the packet: `bpf_skb_load_helper_*` and,
/// for negative offsets, `bpf_internal_load_pointer_neg_helper()`.
fn packet_load(pkt: &[u8], ctx: &SkbContext, off: i32, size: u32) -> Option<u32> {
    let start = if off >= 0 {
        off as usize
    } else if off >= SKF_NET_OFF {
        ctx.network_offset? + (off - SKF_NET_OFF) as usize
    } else if off >= SKF_LL_OFF {
        ctx.mac_offset? + (off - SKF_LL_OFF) as usize
    } else {
        return None;
    };
    let bytes = pkt.get(start..start.checked_add(size as usize)?)?;
    Some(bytes.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32))
}

/// `nla_find()` over `data[start..start+len]`: the offset of the first attribute of type
/// `ty` (`NLA_TYPE_MASK` applied), if any.
fn nla_find(data: &[u8], start: usize, len: usize, ty: u32) -> Option<usize> {
    let mut off = start;
    let end = start + len;
    while end.saturating_sub(off) >= 4 {
        let nla_len = u16::from_ne_bytes([data[off], data[off + 1]]) as usize;
        let nla_type = u16::from_ne_bytes([data[off + 2], data[off + 3]]) as u32;
        if nla_len < 4 || nla_len > end - off {
            return None;
        }
        if nla_type & 0x3fff == ty {
            return Some(off);
        }
        off += (nla_len + 3) & !3;
    }
    None
}

/// `__skb_get_nlattr()` / `__skb_get_nlattr_nest()`.
fn nlattr(pkt: &[u8], a: u32, x: u32, nested: bool) -> u32 {
    let len = pkt.len();
    if len < 4 || a as usize > len - 4 {
        return 0;
    }
    let a = a as usize;
    let found = if nested {
        let nla_len = u16::from_ne_bytes([pkt[a], pkt[a + 1]]) as usize;
        if nla_len > len - a || nla_len < 4 {
            return 0;
        }
        nla_find(pkt, a + 4, nla_len - 4, x)
    } else {
        nla_find(pkt, a, len - a, x)
    };
    found.map_or(0, |o| o as u32)
}

fn run(prog: &[SockFilter], input: Input<'_>) -> Result<Outcome, RunError> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let mut steps = 0;
    let mut read_args = false;
    let len = match input {
        Input::Packet(p, _) => p.len() as u32,
        Input::Seccomp(_) => 64,
    };
    let done = |ret: u32, steps: usize, read_args: bool| {
        Ok(Outcome {
            ret,
            steps,
            read_args,
        })
    };
    loop {
        let Some(f) = prog.get(pc) else {
            return Err(RunError::FellOff);
        };
        steps += 1;
        let def = lookup(f.code).ok_or(RunError::UnknownOpcode {
            index: pc,
            code: f.code,
        })?;
        let k = f.k;
        let mut next = pc + 1;
        let memk = |k: u32| -> Result<usize, RunError> {
            if k < 16 {
                Ok(k as usize)
            } else {
                Err(RunError::BadMem { index: pc, k })
            }
        };
        match def.form {
            Form::LdAbs(size) | Form::LdInd(size) => {
                let indexed = matches!(def.form, Form::LdInd(_));
                match input {
                    Input::Seccomp(data) => {
                        if indexed || size != Size::W || k >= 64 || k % 4 != 0 {
                            return Err(RunError::NotSeccomp { index: pc });
                        }
                        read_args |= k >= 8;
                        let i = k as usize;
                        a = u32::from_ne_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
                    }
                    Input::Packet(pkt, ctx) => {
                        if !indexed {
                            if let Some(anc) = ancillary(k) {
                                if ctx.no_device && matches!(anc.1, 8 | 28) {
                                    return done(a, steps, read_args);
                                }
                                a = match anc.1 {
                                    0 => ctx.protocol as u32,
                                    4 => ctx.pkt_type,
                                    8 => ctx.ifindex,
                                    12 => nlattr(pkt, a, x, false),
                                    16 => nlattr(pkt, a, x, true),
                                    20 => ctx.mark,
                                    24 => ctx.queue as u32,
                                    28 => ctx.hatype as u32,
                                    32 => ctx.rxhash,
                                    36 => ctx.cpu,
                                    40 => a ^ x,
                                    44 => ctx.vlan_tci as u32,
                                    48 => ctx.vlan_present as u32,
                                    52 => ctx.payload_offset,
                                    56 => ctx.random,
                                    _ => ctx.vlan_tpid as u32,
                                };
                                pc = next;
                                continue;
                            }
                        }
                        let off = if indexed {
                            x.wrapping_add(k) as i32
                        } else {
                            k as i32
                        };
                        match packet_load(pkt, ctx, off, size.bytes()) {
                            Some(v) => a = v,
                            None => return done(0, steps, read_args),
                        }
                    }
                }
            }
            Form::LdLen => a = len,
            Form::LdxLen => x = len,
            Form::LdImm => a = k,
            Form::LdxImm => x = k,
            Form::LdMem => a = mem[memk(k)?],
            Form::LdxMem => x = mem[memk(k)?],
            Form::St => mem[memk(k)?] = a,
            Form::Stx => mem[memk(k)?] = x,
            Form::LdxMsh => match input {
                Input::Packet(pkt, ctx) => match packet_load(pkt, ctx, k as i32, 1) {
                    Some(v) => x = 4 * (v & 0xf),
                    None => return done(0, steps, read_args),
                },
                Input::Seccomp(_) => return Err(RunError::NotSeccomp { index: pc }),
            },
            Form::Alu(op, src) => {
                let v = match src {
                    Src::K => k,
                    Src::X => x,
                };
                a = match alu(op, a, v) {
                    Some(r) => r,
                    None => return done(0, steps, read_args),
                };
            }
            Form::Ja => next = jump(pc, k as u64, prog.len())?,
            Form::Jmp(op, src) => {
                let v = match src {
                    Src::K => k,
                    Src::X => x,
                };
                let taken = match op {
                    JmpOp::Jeq => a == v,
                    JmpOp::Jgt => a > v,
                    JmpOp::Jge => a >= v,
                    JmpOp::Jset => a & v != 0,
                };
                next = jump(pc, if taken { f.jt } else { f.jf } as u64, prog.len())?;
            }
            Form::RetK => return done(k, steps, read_args),
            Form::RetA => return done(a, steps, read_args),
            Form::RetX => return done(x, steps, read_args),
            Form::Tax => x = a,
            Form::Txa => a = x,
        }
        pc = next;
    }
}

fn jump(pc: usize, off: u64, len: usize) -> Result<usize, RunError> {
    let t = pc as u64 + 1 + off;
    if t < len as u64 {
        Ok(t as usize)
    } else {
        Err(RunError::OutOfProgram { index: pc })
    }
}

/// The result of a stack of seccomp filters (`seccomp_run_filters()`): `filters` in
/// installation order (oldest first); all run, newest first, and the lowest action wins
/// (ties to the newest). Returns the winning return value and which filter gave it.
///
/// Like the kernel (`seccomp_uprobe_exception()`, measured on 6.18), no filter runs for
/// x86-64's `uretprobe` (335) and `uprobe` (336): they are allowed, see [`exempt`].
pub fn run_seccomp_stack(
    filters: &[Vec<SockFilter>],
    data: &SeccompData,
) -> Result<StackOutcome, (usize, RunError)> {
    if exempt(data) {
        return Ok(StackOutcome {
            ret: asm::cbpf::seccomp::Action::Allow.to_ret(),
            filter: 0,
            read_args: false,
            exempt: true,
        });
    }
    let mut rets = Vec::with_capacity(filters.len());
    let mut read_args = false;
    for (i, f) in filters.iter().enumerate().rev() {
        let o = run_seccomp(f, data).map_err(|e| (i, e))?;
        read_args |= o.read_args;
        rets.push(o.ret);
    }
    match asm::cbpf::seccomp::combine(&rets) {
        Some(w) => Ok(StackOutcome {
            ret: rets[w],
            filter: filters.len() - 1 - w,
            read_args,
            exempt: false,
        }),
        // No filter installed: everything is allowed.
        None => Ok(StackOutcome {
            ret: asm::cbpf::seccomp::Action::Allow.to_ret(),
            filter: 0,
            read_args,
            exempt: false,
        }),
    }
}

/// The combined result of stacked seccomp filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StackOutcome {
    /// The winning return value.
    pub ret: u32,
    /// Index (installation order) of the filter that gave it.
    pub filter: usize,
    /// Whether any filter read `instruction_pointer` or an argument.
    pub read_args: bool,
    /// Whether the kernel bypasses the filters for this call (see [`exempt`]).
    pub exempt: bool,
}

/// System calls the kernel never filters: x86-64's `uretprobe` (335) and `uprobe` (336),
/// which only work from the uprobe trampoline (elsewhere they raise SIGILL / fail with
/// ENXIO, measured on 6.18 with an ERRNO-everything filter installed).
pub fn exempt(data: &SeccompData) -> bool {
    data.arch == asm::cbpf::seccomp::Arch::X86_64.audit() && matches!(data.nr, 335 | 336)
}

/// `A op v` as the kernel computes it for classic BPF (after `bpf_convert_filter`, as 32-bit
/// eBPF ALU operations): wrapping arithmetic, shift counts taken modulo 32, and `None` for a
/// division or modulo by zero, where the kernel's filter returns 0.
pub(crate) fn alu(op: AluOp, a: u32, v: u32) -> Option<u32> {
    Some(match op {
        AluOp::Add => a.wrapping_add(v),
        AluOp::Sub => a.wrapping_sub(v),
        AluOp::Mul => a.wrapping_mul(v),
        AluOp::Div | AluOp::Mod if v == 0 => return None,
        AluOp::Div => a / v,
        AluOp::Mod => a % v,
        AluOp::Or => a | v,
        AluOp::And => a & v,
        AluOp::Xor => a ^ v,
        AluOp::Lsh => a.wrapping_shl(v),
        AluOp::Rsh => a.wrapping_shr(v),
        AluOp::Neg => a.wrapping_neg(),
    })
}
