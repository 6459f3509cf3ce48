//! BPF timers on the VM's virtual clock: `bpf_timer_init`, `bpf_timer_set_callback`,
//! `bpf_timer_start`, `bpf_timer_cancel` (kernel/bpf/helpers.c). A `struct bpf_timer` lives
//! in a map value; the VM keeps each initialised timer's state beside the maps, keyed by the
//! timer's address, and leaves the value's bytes alone (the kernel's pointer there is never
//! visible: programs cannot read the field, and user space reads it as zeros). Nothing fires during a run: the test advances the
//! clock with [`crate::Vm::advance_clock`], which runs the callbacks that expired, in expiry
//! order, each as a run of its own (`callback_fn(map, key, value)`).

use super::{bad, errno, map, HelperFn, EINVAL};
use crate::error::HelperError;
use crate::error::{ErrorKind, VmError};
use crate::machine::Machine;
use crate::mem::Region;
use crate::{MapType, Outcome, Vm};

const EBUSY: u64 = errno(16);
const EDEADLK: u64 = errno(35);
/// `CLOCK_REALTIME`, `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`; `MAX_CLOCKS`.
const CLOCK_REALTIME: u64 = 0;
const CLOCK_MONOTONIC: u64 = 1;
const CLOCK_BOOTTIME: u64 = 7;
const MAX_CLOCKS: u64 = 16;
/// `BPF_F_TIMER_ABS`, `BPF_F_TIMER_CPU_PIN` (6.18 accepts both).
const TIMER_ABS: u64 = 1;
const TIMER_CPU_PIN: u64 = 2;
/// TAI runs 37 seconds ahead of UTC.
const TAI_MINUS_UTC_NS: u64 = 37_000_000_000;

/// An initialised `struct bpf_timer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Timer {
    /// VM address of the `struct bpf_timer` in the map value.
    pub addr: u64,
    /// The map's index.
    pub map: u32,
    /// The element's key (the callback's second argument).
    pub key: Vec<u8>,
    /// VM address of the element's value (the callback's third argument).
    pub value: u64,
    /// `CLOCK_*` of `bpf_timer_init`.
    pub clock: u64,
    /// `(program, function address)` of `bpf_timer_set_callback`.
    pub callback: Option<(u32, u64)>,
    /// When it fires, on the VM's monotonic clock ([`crate::Env::ktime_ns`]).
    pub expires: Option<u64>,
}

/// The index of the timer at `addr`.
pub(crate) fn find(m: &Machine, addr: u64) -> Option<usize> {
    m.timers.iter().position(|t| t.addr == addr)
}

/// `bpf_timer_init(timer, map, flags)`.
fn init(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (addr, handle, flags) = (a[0], a[1], a[2]);
    let clock = flags & (MAX_CLOCKS - 1);
    if flags >= MAX_CLOCKS || ![CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME].contains(&clock) {
        return Ok(EINVAL);
    }
    let cpu = m.env.cpu as usize;
    let busy = find(m, addr).is_some();
    let (idx, mp) = map(m, handle)?;
    let Some(Region::MapValue(vidx)) = Region::of(addr) else {
        return Err(bad(format!("{addr:#x} is not a bpf_timer in a map value")));
    };
    if vidx as usize != idx {
        return Err(bad(format!(
            "the timer at {addr:#x} is not in a value of the map passed ({handle:#x})"
        )));
    }
    if busy {
        return Ok(EBUSY);
    }
    // The element holding the timer: its key and value address.
    let vs = mp.spec().value_size as u64;
    let off = addr as u32 as u64;
    let element = mp.keys().into_iter().find_map(|k| {
        let v = mp.peek_off(&k, cpu)? as u64;
        (v <= off && off + 16 <= v + vs).then_some((k, v))
    });
    let map_type = mp.spec().map_type;
    let Some((key, voff)) = element else {
        return Err(bad(format!(
            "{addr:#x} is not inside an element of map {idx} (a timer must be in a map value)"
        )));
    };
    if !matches!(map_type, MapType::Array | MapType::Hash | MapType::LruHash) {
        return Err(bad(format!("{} maps cannot hold timers", map_type.name())));
    }
    m.timers.push(Timer {
        addr,
        map: idx as u32,
        key,
        value: Region::MapValue(idx as u32).addr(voff as u32),
        clock,
        callback: None,
        expires: None,
    });
    Ok(0)
}

fn timer(m: &mut Machine, addr: u64) -> Option<&mut Timer> {
    let i = find(m, addr)?;
    m.timers.get_mut(i)
}

/// `bpf_timer_set_callback(timer, callback_fn)`: the program is the one running.
fn set_callback(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let prog = m.running_prog;
    if Region::of(a[1]) != Some(Region::Code) {
        return Err(bad(format!(
            "callback {:#x} is not a function address (lddw with src = 4)",
            a[1]
        )));
    }
    match timer(m, a[0]) {
        Some(t) => {
            t.callback = Some((prog, a[1]));
            Ok(0)
        }
        None => Ok(EINVAL),
    }
}

/// `bpf_timer_start(timer, nsecs, flags)`: relative to now, or absolute on the timer's clock
/// with `BPF_F_TIMER_ABS`.
fn start(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    let (addr, nsecs, flags) = (a[0], a[1], a[2]);
    if flags & !(TIMER_ABS | TIMER_CPU_PIN) != 0 {
        return Ok(EINVAL);
    }
    let now = m.env.ktime_ns;
    let boot = m.env.boot_offset_ns;
    let real = m.env.tai_offset_ns.wrapping_sub(TAI_MINUS_UTC_NS);
    let Some(t) = timer(m, addr) else {
        return Ok(EINVAL);
    };
    if t.callback.is_none() {
        return Ok(EINVAL);
    }
    let at = if flags & TIMER_ABS != 0 {
        // An absolute time on the timer's clock, as monotonic time (a past time fires at
        // the next advance).
        let offset = match t.clock {
            CLOCK_BOOTTIME => boot,
            CLOCK_REALTIME => real,
            _ => 0,
        };
        nsecs.saturating_sub(offset)
    } else {
        now.saturating_add(nsecs)
    };
    t.expires = Some(at);
    Ok(0)
}

/// `bpf_timer_cancel(timer)`: 1 if it was pending, 0 if not; `-EDEADLK` from its own
/// callback.
fn cancel(m: &mut Machine, a: [u64; 5]) -> Result<u64, HelperError> {
    if m.running_timer == Some(a[0]) {
        return Ok(EDEADLK);
    }
    match timer(m, a[0]) {
        Some(t) => Ok(u64::from(t.expires.take().is_some())),
        None => Ok(EINVAL),
    }
}

/// This family's helpers.
pub(crate) fn helpers() -> Vec<(u32, HelperFn)> {
    vec![
        (169, Box::new(init)),
        (170, Box::new(set_callback)),
        (171, Box::new(start)),
        (172, Box::new(cancel)),
    ]
}

/// A timer callback that [`Vm::advance_clock`] ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerRun {
    /// The index of the map holding the timer.
    pub map: u32,
    /// The key of the element holding it.
    pub key: Vec<u8>,
    /// When it fired, on the monotonic clock ([`crate::Env::ktime_ns`]).
    pub at_ns: u64,
    /// The callback's r0 (the kernel's verifier requires 0) and instruction count.
    pub outcome: Outcome,
}

/// At most this many callbacks run in one [`Vm::advance_clock`] (a callback that re-arms its
/// own timer with no delay would otherwise never let the clock move).
pub const MAX_TIMER_RUNS: usize = 100_000;

impl Vm {
    /// Advances the VM clock ([`crate::Env::ktime_ns`]) by `ns`, running the callback of
    /// every BPF timer that expires on the way, earliest first, as `hrtimer` softirqs
    /// would: the clock reads the expiry time during the callback, which may start timers
    /// again (those that expire before the end run too). The callbacks' effects are in the
    /// maps and trace lines; the list says which ran. A callback's run error ends the
    /// advance there (the clock stays at its expiry time).
    pub fn advance_clock(&mut self, ns: u64) -> Result<Vec<TimerRun>, VmError> {
        let end = self.machine.env.ktime_ns.saturating_add(ns);
        let mut runs = Vec::new();
        loop {
            let next = self
                .machine
                .timers
                .iter()
                .enumerate()
                .filter_map(|(i, t)| Some((t.expires?, i)))
                .filter(|&(at, _)| at <= end)
                .min();
            let Some((at, i)) = next else {
                break;
            };
            if runs.len() >= MAX_TIMER_RUNS {
                return Err(VmError {
                    pc: 0,
                    kind: ErrorKind::Helper {
                        id: 171,
                        name: "bpf_timer_start".into(),
                        message: format!(
                            "timers fired {MAX_TIMER_RUNS} times in one clock advance (a \
                             callback restarts its timer without delay?)"
                        ),
                    },
                });
            }
            let t = self.machine.timers[i].clone();
            self.machine.timers[i].expires = None;
            self.machine.env.ktime_ns = self.machine.env.ktime_ns.max(at);
            let Some((prog, func)) = t.callback else {
                continue;
            };
            let pc = self
                .programs
                .get(prog as usize)
                .and_then(|p| p.index_of_slot.get(func as u32 as usize).copied())
                .filter(|&pc| pc != u32::MAX)
                .ok_or(VmError {
                    pc: 0,
                    kind: ErrorKind::Helper {
                        id: 170,
                        name: "bpf_timer_set_callback".into(),
                        message: format!("{func:#x} is not a function of program {prog}"),
                    },
                })?;
            let (key, mark) = self.machine.push_helper_data(&t.key);
            let mut r = [0u64; 16];
            r[1] = Region::MapHandle.addr(t.map);
            r[2] = key;
            r[3] = t.value;
            self.machine.running_timer = Some(t.addr);
            let out = self.exec::<false>(prog, pc as usize, r, &mut Vec::new());
            self.machine.running_timer = None;
            self.machine.pop_helper_data(mark);
            runs.push(TimerRun {
                map: t.map,
                key: t.key,
                at_ns: at,
                outcome: out?,
            });
        }
        self.machine.env.ktime_ns = self.machine.env.ktime_ns.max(end);
        Ok(runs)
    }
}
