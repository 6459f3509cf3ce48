//! Abstract machine state: registers, stack slots, call frames, references.

use crate::scalar::Scalar;

/// What a register holds (`enum bpf_reg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Never written.
    NotInit,
    /// A number.
    Scalar,
    /// The context.
    Ctx,
    /// A stack address (`fp`).
    Stack,
    /// A map (`map_ptr`).
    MapPtr,
    /// A map key.
    MapKey,
    /// A map value.
    MapValue,
    /// Packet data.
    Pkt,
    /// Packet metadata.
    PktMeta,
    /// Packet end.
    PktEnd,
    /// Flow dissector keys.
    FlowKeys,
    /// `struct bpf_sock`.
    Sock,
    /// `struct bpf_sock_common`.
    SockCommon,
    /// `struct bpf_tcp_sock`.
    TcpSock,
    /// Ring buffer memory.
    RingbufMem,
    /// Raw tracepoint buffer.
    TpBuffer,
    /// A trusted BTF-typed kernel pointer (not modelled further).
    BtfPtr,
    /// A function of the program (`PTR_TO_FUNC`, from `lddw` with `BPF_PSEUDO_FUNC`); `aux`
    /// is the function's index.
    Func,
    /// A dynptr a helper hands to a callback (`CONST_PTR_TO_DYNPTR`, the sample of
    /// `bpf_user_ringbuf_drain`); only dynptr helpers take it.
    ConstDynptr,
}

/// One register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reg {
    /// Type.
    pub ty: Ty,
    /// May be NULL (`PTR_MAYBE_NULL`).
    pub maybe_null: bool,
    /// Fixed offset of a pointer.
    pub off: i32,
    /// The scalar value, or a pointer's variable offset.
    pub s: Scalar,
    /// Identity: shared by copies (null checks, packet ranges, linked scalars).
    pub id: u32,
    /// Acquired reference this pointer holds.
    pub ref_id: u32,
    /// Packet pointers: bytes proven readable past the pointer.
    pub range: i32,
    /// Map index for map pointers, keys and values; frame number for stack pointers.
    pub aux: u32,
    /// Size of the memory a `mem`/`ringbuf_mem` pointer points to.
    pub mem_size: u32,
}

impl Reg {
    /// An uninitialised register.
    pub const NOT_INIT: Reg = Reg {
        ty: Ty::NotInit,
        maybe_null: false,
        off: 0,
        s: Scalar::UNKNOWN,
        id: 0,
        ref_id: 0,
        range: 0,
        aux: 0,
        mem_size: 0,
    };

    /// An unknown scalar.
    pub fn unknown() -> Reg {
        Reg {
            ty: Ty::Scalar,
            ..Reg::NOT_INIT
        }
    }

    /// A known scalar.
    pub fn known(v: u64) -> Reg {
        Reg {
            ty: Ty::Scalar,
            s: Scalar::known(v),
            ..Reg::NOT_INIT
        }
    }

    /// A pointer of type `ty` at offset 0.
    pub fn ptr(ty: Ty) -> Reg {
        Reg {
            ty,
            s: Scalar::known(0),
            ..Reg::NOT_INIT
        }
    }

    /// Whether this holds a pointer.
    pub fn is_ptr(&self) -> bool {
        !matches!(self.ty, Ty::Scalar | Ty::NotInit)
    }

    /// Whether this is a packet pointer of any kind.
    pub fn is_pkt(&self) -> bool {
        matches!(self.ty, Ty::Pkt | Ty::PktMeta)
    }

    /// The kernel's type name (`reg_type_str`).
    pub fn type_name(&self) -> String {
        let base = match self.ty {
            Ty::NotInit => "?",
            Ty::Scalar => "scalar",
            Ty::Ctx => "ctx",
            Ty::Stack => "fp",
            Ty::MapPtr => "map_ptr",
            Ty::MapKey => "map_key",
            Ty::MapValue => "map_value",
            Ty::Pkt => "pkt",
            Ty::PktMeta => "pkt_meta",
            Ty::PktEnd => "pkt_end",
            Ty::FlowKeys => "flow_keys",
            Ty::Sock => "sock",
            Ty::SockCommon => "sock_common",
            Ty::TcpSock => "tcp_sock",
            Ty::RingbufMem => "ringbuf_mem",
            Ty::TpBuffer => "tp_buffer",
            Ty::BtfPtr => "trusted_ptr_",
            Ty::Func => "func",
            Ty::ConstDynptr => "dynptr_ptr",
        };
        if self.maybe_null {
            format!("{base}_or_null")
        } else {
            base.to_string()
        }
    }
}

/// What a stack byte holds (`STACK_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Never written.
    Invalid,
    /// Part of a spilled register.
    Spill,
    /// Some data.
    Misc,
    /// Known zero.
    Zero,
}

/// An 8-byte stack slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackSlot {
    /// Byte kinds, indexed as the kernel's `slot_type`: byte `fp-off` is at
    /// `(off - 1) % 8`, so index 7 is the slot's lowest address.
    pub bytes: [Slot; 8],
    /// The spilled register when `bytes` holds `Spill`.
    pub spilled: Reg,
}

impl StackSlot {
    /// An unwritten slot.
    pub const EMPTY: StackSlot = StackSlot {
        bytes: [Slot::Invalid; 8],
        spilled: Reg::NOT_INIT,
    };
}

/// One function's frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// r0..r10.
    pub regs: [Reg; 11],
    /// Stack slots; index 0 is `fp-8`.
    pub stack: Vec<StackSlot>,
    /// Call instruction that created this frame (`usize::MAX` for the main program).
    pub callsite: usize,
    /// Function index.
    pub subprog: usize,
    /// Set when this frame runs a callback a helper calls (`in_callback_fn`,
    /// `in_async_callback_fn`, `callback_ret_range`).
    pub callback: Option<Callback>,
    /// Callbacks this frame's pending helper call has queued so far (`callback_depth`,
    /// bounded by `bpf_loop`'s count).
    pub callback_depth: u64,
    /// How many asynchronous callbacks deep this frame runs (`async_entry_cnt`): the same
    /// state seen at another depth is another entry into the callback, not a loop.
    pub async_entry_cnt: u32,
}

/// What a callback frame must return, and how it was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Callback {
    /// `callback_ret_range`: the inclusive range r0 must be in at its `exit`.
    pub ret: (i64, i64),
    /// An asynchronous callback (`bpf_timer_set_callback`): verified on its own, with no
    /// caller frame to return to.
    pub is_async: bool,
}

impl Frame {
    /// A frame with nothing initialised.
    pub fn new(callsite: usize, subprog: usize, frameno: u32) -> Frame {
        let mut regs = [Reg::NOT_INIT; 11];
        regs[10] = Reg::ptr(Ty::Stack);
        regs[10].aux = frameno;
        Frame {
            regs,
            stack: Vec::new(),
            callsite,
            subprog,
            callback: None,
            callback_depth: 0,
            async_entry_cnt: 0,
        }
    }

    /// The slot at byte offset `off` below the frame pointer (`off` in `-512..0`).
    pub fn slot_index(off: i64) -> usize {
        ((-off - 1) / 8) as usize
    }

    /// Grows the stack to hold `fp + off`.
    pub fn grow(&mut self, off: i64) {
        let need = Frame::slot_index(off) + 1;
        if self.stack.len() < need {
            self.stack.resize(need, StackSlot::EMPTY);
        }
    }
}

/// An acquired reference (socket, ring buffer record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefState {
    /// Reference id.
    pub id: u32,
    /// Instruction that acquired it.
    pub insn: usize,
}

/// The whole abstract state on one path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Call frames, innermost last.
    pub frames: Vec<Frame>,
    /// References held.
    pub refs: Vec<RefState>,
    /// Held spin lock: (map index, pointer id).
    pub lock: Option<(u32, u32)>,
    /// How many `may_goto` fallthroughs this path took.
    pub may_goto_depth: u32,
    /// Callback visits queued on this path (`callback_unroll_depth`): states that differ
    /// in it are not an infinite loop.
    pub callback_unroll_depth: u32,
}

impl State {
    /// The innermost frame.
    pub fn cur(&self) -> &Frame {
        &self.frames[self.frames.len() - 1]
    }

    /// The innermost frame, mutably.
    pub fn cur_mut(&mut self) -> &mut Frame {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    /// Applies `f` to every register and spilled register in every frame.
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut Reg)) {
        for fr in &mut self.frames {
            for r in fr.regs.iter_mut() {
                f(r);
            }
            for s in fr.stack.iter_mut() {
                if s.bytes[7] == Slot::Spill {
                    f(&mut s.spilled);
                }
            }
        }
    }
}
