//! Running a program in the kernel and observing its whole 64-bit `r0`.
//!
//! `BPF_PROG_TEST_RUN` reports a 32-bit return value. To see all of `r0`, the program is
//! loaded as a bpf-to-bpf subprogram of a small wrapper that calls it, stores its `r0` into
//! a one-entry array map through a direct map-value reference (`lddw` with `src` = 2), and
//! returns. This is the approach of the bpf_conformance kernel plugin.
//!
//! Two shapes of wrapper:
//! - **memory mode** (no program type, the bpf_conformance convention: `r1` points to the
//!   memory, `r2` holds its length): an XDP program whose packet is the memory. Its prolog
//!   proves to the verifier that `[data, data + len)` is inside the packet, so the program
//!   may read and write all of it without bounds checks of its own.
//! - **typed mode**: a wrapper of the requested type that passes its context through in `r1`
//!   and returns the program's `r0` unchanged, so the kernel sees the same return value.
//!   Where the kernel refuses subprograms (legacy `ld_abs`/`ld_ind` cannot be mixed with
//!   bpf-to-bpf calls) the program is run directly and only 32 bits of `r0` are known.
//!
//! **The packet is what the program sees at `skb->data`.** For the skb types whose test run
//! is not "layer 2" (socket filters, cgroup skb, lwt), `bpf_prog_test_run_skb`
//! (`net/bpf/test_run.c`) passes `data_in` through `eth_type_trans`, which pulls a 14-byte
//! Ethernet header: the program would see the input from byte 14 on, and `skb->protocol`
//! would be bytes 12–13 of the input. bpfx's convention (the VM's too, and what a filter on
//! an `AF_PACKET` socket sees) is that the packet given is exactly `skb->data`, so for these
//! types [`prepare`] puts a 14-byte header in front of it, zero except for the Ethertype,
//! which is copied from the packet's own bytes 12–13 (0 when it is shorter), and
//! [`Prepared::run`] strips the header (which the kernel hands back zeroed) from the output.
//! Two differences remain, both about `skb->protocol`: for a packet shorter than 14 bytes
//! the kernel reports `ETH_P_802_2` or `ETH_P_802_3` where the VM says 0, and for an 802.3
//! frame (bytes 12–13 below 0x0600) the kernel tells raw 802.3 from LLC by the packet's
//! first two bytes (those after the header it pulled) where the VM looks at bytes 14–15.
//! The kernel also refuses (`EINVAL`) an IPv4 or IPv6 frame too short for its IP header.

use crate::error::Error;
use crate::map::{Map, MapSpec};
use crate::prog::{LoadOptions, LogLevel, ProgType, Program, TestRun};
use asm::isa::{AluOp, Cond, Pseudo, Size};
use asm::Insn;

/// What to run and with what input.
#[derive(Clone, Debug, Default)]
pub struct RunInput<'a> {
    /// `None`: memory mode (see the module docs). `Some(t)`: run as that type.
    pub prog_type: Option<ProgType>,
    /// Memory mode: the bytes `r1` points to.
    pub mem: &'a [u8],
    /// Typed mode: the packet, as the program sees it at `skb->data` / `xdp->data` (for
    /// socket filters and the other types in [`pulls_ethernet_header`] a header is added in
    /// front; see the module docs).
    pub packet: &'a [u8],
    /// Typed mode: the context (`ctx_in`).
    pub ctx: &'a [u8],
    /// Repetitions for timing (0 or 1: once).
    pub repeat: u32,
    /// The program's maps, by index (see [`LoadOptions::maps`]).
    pub maps: Vec<&'a Map>,
    /// Keep the verifier log of a successful load.
    pub want_log: bool,
    /// Memory mode: put the memory in a map value even when it would fit in a packet. The
    /// verifier bounds map-value accesses by the value size, so programs that check bounds
    /// against something other than `data_end` (e.g. `r1 + len`) can still load.
    pub mem_in_map: bool,
    /// Run on this CPU ([`TestRun::cpu`]).
    pub cpu: Option<u32>,
    /// Typed mode: load with these options (an object's, from
    /// [`crate::object::Loader::options`]: licence, name, BTF with func_info and line_info,
    /// expected_attach_type, attach BTF id) instead of [`LoadOptions::new`]; their `maps`
    /// are replaced by [`RunInput::maps`]. With BTF the program is loaded on its own,
    /// without the wrapper, whose instructions the func_info and line_info do not cover.
    pub load: Option<LoadOptions<'a>>,
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// `r0` at exit; only the low 32 bits are meaningful when `r0_bits` is 32.
    pub r0: u64,
    /// 64 when observed through the wrapper, 32 when the program ran directly.
    pub r0_bits: u8,
    /// Mean nanoseconds per run, as the kernel measured it (wrapper overhead included).
    pub ns_per_run: u32,
    /// Memory mode: the memory after the run. Typed mode: the packet after the run, without
    /// the header [`prepare`] may have added.
    pub data: Vec<u8>,
    /// Typed mode: the context after the run.
    pub ctx: Vec<u8>,
    /// The verifier log, if requested.
    pub log: String,
}

/// The smallest packet `BPF_PROG_TEST_RUN` accepts for XDP and skb programs (`ETH_HLEN`,
/// checked in `bpf_test_init`).
pub const MIN_PACKET: usize = 14;

/// Length of the Ethernet header `eth_type_trans` pulls (`ETH_HLEN`).
pub const ETH_HLEN: usize = 14;

/// Whether `BPF_PROG_TEST_RUN` pulls an Ethernet header off the packet before running a
/// program of this type: every type it runs through `bpf_prog_test_run_skb` except the tc
/// ones, which it treats as layer 2 (`is_l2`) and pushes the header back for.
pub const fn pulls_ethernet_header(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::SocketFilter
            | ProgType::CgroupSkb
            | ProgType::LwtIn
            | ProgType::LwtOut
            | ProgType::LwtXmit
    )
}

/// Why `BPF_PROG_TEST_RUN` would refuse (`EINVAL`) this packet for this type, before
/// anything runs; `packet` as [`RunInput::packet`] takes it (what the program sees).
///
/// - XDP and tc: fewer than [`ETH_HLEN`] bytes (`bpf_test_init`; socket filters and the
///   other types in [`pulls_ethernet_header`] get a header added, so any length works).
/// - skb types: an IPv4 or IPv6 Ethertype with fewer bytes after the Ethernet header than
///   the IP header needs (`bpf_prog_test_run_skb` checks the network header it will hand to
///   the program's socket).
pub fn refused_packet(t: ProgType, packet: &[u8]) -> Option<String> {
    let skb = pulls_ethernet_header(t) || matches!(t, ProgType::SchedCls | ProgType::SchedAct);
    if !pulls_ethernet_header(t) && (skb || t == ProgType::Xdp) && packet.len() < ETH_HLEN {
        return Some(format!(
            "the kernel's test run needs a packet of at least {ETH_HLEN} bytes for {t} programs (this one has {})",
            packet.len()
        ));
    }
    if !skb {
        return None;
    }
    let ethertype = packet.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let network = if pulls_ethernet_header(t) {
        packet.len()
    } else {
        packet.len() - ETH_HLEN
    };
    let (name, need) = match ethertype {
        Some(0x0800) => ("IPv4", 20),
        Some(0x86dd) => ("IPv6", 40),
        _ => return None,
    };
    (network < need).then(|| {
        format!(
            "the kernel's test run refuses an {name} frame with {network} bytes after the Ethernet header (an {name} header needs {need})"
        )
    })
}

/// The input the kernel is given for a packet the program must see at `skb->data`: a
/// 14-byte header, zero except its Ethertype (the packet's bytes 12–13, or 0 when it has
/// fewer than 14 bytes), then the packet. See the module docs.
pub fn with_ethernet_header(packet: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; ETH_HLEN];
    if let Some(t) = packet.get(12..14) {
        d[12..14].copy_from_slice(t);
    }
    d.extend_from_slice(packet);
    d
}

/// The largest memory passed as the packet: XDP test runs take at most a page minus the
/// headroom and `skb_shared_info` tailroom; 3,000 bytes stays inside that on every 4K-page
/// kernel. Larger memory goes into the value of a one-entry array map instead (`r1` is then
/// a map-value pointer, which the verifier bounds by the value size just as well).
pub const MAX_PACKET_MEM: usize = 3000;

/// The largest memory memory mode accepts (in a map value).
pub const MAX_MEM: usize = 1 << 20;

/// A wrapper immediate: memory lengths are at most [`MAX_MEM`] and map indexes are small.
fn imm(v: impl TryInto<i32>) -> i32 {
    v.try_into()
        .unwrap_or_else(|_| panic!("wrapper immediate out of i32 range"))
}

fn slots(insns: &[Insn]) -> usize {
    insns.iter().map(Insn::slots).sum()
}

/// The memory-mode wrapper followed by the program. `result_map` is the index the wrapper
/// uses for its result map in the load's map list.
pub fn mem_wrapper(prog: &[Insn], mem_len: usize, result_map: u32) -> Vec<Insn> {
    let mut w = vec![
        // r2 = xdp_md->data; r3 = xdp_md->data_end
        Insn::ldx(Size::W, 2, 1, 0),
        Insn::ldx(Size::W, 3, 1, 4),
        // r1 = data
        Insn::mov64_reg(1, 2),
    ];
    let mut fail_jumps = Vec::new();
    if mem_len > 0 {
        // r4 = data + len; if r4 > data_end goto fail: after this the verifier knows the
        // packet range is at least len (find_good_pkt_pointers).
        w.push(Insn::mov64_reg(4, 1));
        w.push(Insn::alu64_imm(AluOp::Add, 4, imm(mem_len)));
        fail_jumps.push(w.len());
        w.push(Insn::jmp_reg(Cond::Gt, 4, 3, 0));
    }
    // r2 = len
    w.push(Insn::mov64_imm(2, imm(mem_len)));
    let call_at = w.len();
    w.push(Insn::call_local(0));
    // *(u64 *)map_value(result, 0) = r0
    w.push(Insn::ld_map_value(1, imm(result_map), 0));
    w.push(Insn::stx(Size::DW, 1, 0, 0));
    // return XDP_PASS
    w.push(Insn::mov64_imm(0, 2));
    w.push(Insn::exit());
    let fail = w.len();
    if !fail_jumps.is_empty() {
        // Never taken at run time (the packet is always long enough): XDP_ABORTED. Only
        // emitted when something jumps here: the verifier rejects unreachable code.
        w.push(Insn::mov64_imm(0, 0));
        w.push(Insn::exit());
    }
    for j in fail_jumps {
        w[j].off = (slots(&w[..fail]) - slots(&w[..j]) - 1) as i16;
    }
    w[call_at].imm = (slots(&w) - slots(&w[..call_at]) - 1) as i64;
    w.extend_from_slice(prog);
    w
}

/// The memory-mode wrapper for memory in a map value (see [`MAX_PACKET_MEM`]): `r1` =
/// the value of map `mem_map`, `r2` = its size.
pub fn map_mem_wrapper(prog: &[Insn], mem_len: usize, mem_map: u32, result_map: u32) -> Vec<Insn> {
    let mut w = vec![
        Insn::ld_map_value(1, imm(mem_map), 0),
        Insn::mov64_imm(2, imm(mem_len)),
        Insn::call_local(0),
        Insn::ld_map_value(1, imm(result_map), 0),
        Insn::stx(Size::DW, 1, 0, 0),
        Insn::mov64_imm(0, 2),
        Insn::exit(),
    ];
    w[2].imm = (slots(&w) - slots(&w[..2]) - 1) as i64;
    w.extend_from_slice(prog);
    w
}

/// The typed-mode wrapper followed by the program.
pub fn typed_wrapper(prog: &[Insn], result_map: u32) -> Vec<Insn> {
    let mut w = vec![
        // call the program with the context still in r1
        Insn::call_local(0),
        Insn::ld_map_value(1, imm(result_map), 0),
        Insn::stx(Size::DW, 1, 0, 0),
        // r0 is still the program's: return it
        Insn::exit(),
    ];
    w[0].imm = (slots(&w) - 1) as i64;
    w.extend_from_slice(prog);
    w
}

/// Where the program starts (in slots) inside the wrapper `run` loads for this input, so a
/// verifier log can be mapped back to the program. `None` in typed mode, where a rejected
/// program's log comes from loading it on its own.
pub fn program_start(input: &RunInput<'_>) -> Option<usize> {
    match input.prog_type {
        None if mem_in_map(input) => Some(slots(&map_mem_wrapper(&[], 0, 0, 0))),
        None => Some(slots(&mem_wrapper(&[], input.mem.len(), 0))),
        Some(_) => None,
    }
}

/// Whether memory mode puts the memory in a map value rather than the packet.
fn mem_in_map(input: &RunInput<'_>) -> bool {
    input.mem.len() > MAX_PACKET_MEM || (input.mem_in_map && !input.mem.is_empty())
}

fn result_map() -> Result<Map, Error> {
    let mut spec = MapSpec::array(8, 1);
    spec.name = "bpfx_r0".into();
    Map::create(&spec)
}

fn read_r0(map: &Map) -> Result<u64, Error> {
    let v = map.lookup(&0u32.to_le_bytes())?.unwrap_or_default();
    let mut b = [0u8; 8];
    b.copy_from_slice(&v[..8]);
    Ok(u64::from_le_bytes(b))
}

/// A program loaded inside its wrapper, ready to be test-run any number of times (the
/// verifier runs once, in [`prepare`]).
#[derive(Debug)]
pub struct Prepared {
    program: Program,
    result: Map,
    /// Memory mode with the memory in a map value: the map and the memory to reset it to.
    mem_map: Option<(Map, Vec<u8>)>,
    /// Memory mode: the memory length.
    mem_len: Option<usize>,
    packet: Vec<u8>,
    ctx: Vec<u8>,
    /// Whether r0 comes from the wrapper (64 bits) or the kernel's retval (32 bits).
    wide: bool,
    /// Whether `packet` starts with a header added by [`with_ethernet_header`].
    added_header: bool,
    /// The CPU to run on.
    cpu: Option<u32>,
}

/// Loads a program for [`Prepared::run`]; see the module docs.
pub fn prepare(prog: &[Insn], input: &RunInput<'_>) -> Result<Prepared, Error> {
    // Check the program's map indexes against its own maps before the wrapper's result map
    // joins the list, so the program cannot name that map by accident.
    for (index, insn) in prog.iter().enumerate() {
        if matches!(
            insn.pseudo(),
            Some(Pseudo::MapFd | Pseudo::MapValue | Pseudo::MapIdx | Pseudo::MapIdxValue)
        ) && insn.imm as u32 as usize >= input.maps.len()
        {
            return Err(Error::MapIndex {
                index,
                map: insn.imm as u32,
                count: input.maps.len(),
            });
        }
    }
    let result = result_map()?;
    let log_level = if input.want_log {
        LogLevel::Verbose
    } else {
        LogLevel::OnFailure
    };
    let result_idx = input.maps.len() as u32;
    match input.prog_type {
        None => {
            if input.mem.len() > MAX_MEM {
                return Err(Error::TooLarge {
                    what: "memory",
                    got: input.mem.len(),
                    max: MAX_MEM,
                });
            }
            // Memory too large for a packet (or asked to) lives in a map value.
            let mem_map = if mem_in_map(input) {
                let mut spec = MapSpec::array(input.mem.len() as u32, 1);
                spec.name = "bpfx_mem".into();
                Some(Map::create(&spec)?)
            } else {
                None
            };
            let program = {
                let mut maps = input.maps.clone();
                maps.push(&result);
                let insns = match &mem_map {
                    Some(m) => {
                        maps.push(m);
                        map_mem_wrapper(prog, input.mem.len(), result_idx + 1, result_idx)
                    }
                    None => mem_wrapper(prog, input.mem.len(), result_idx),
                };
                let mut opts = LoadOptions::new(ProgType::Xdp);
                opts.maps = maps;
                opts.log_level = log_level;
                Program::load(&insns, &opts)?
            };
            let mut packet = if mem_map.is_some() {
                Vec::new()
            } else {
                input.mem.to_vec()
            };
            packet.resize(packet.len().max(MIN_PACKET), 0);
            Ok(Prepared {
                program,
                result,
                mem_map: mem_map.map(|m| (m, input.mem.to_vec())),
                mem_len: Some(input.mem.len()),
                packet,
                ctx: Vec::new(),
                wide: true,
                added_header: false,
                cpu: input.cpu,
            })
        }
        Some(t) => {
            let mut opts = match &input.load {
                Some(base) => LoadOptions {
                    prog_type: t,
                    ..base.clone()
                },
                None => LoadOptions::new(t),
            };
            opts.maps = input.maps.clone();
            opts.log_level = log_level;
            let (program, wide) = if opts.btf.is_some() {
                // func_info and line_info give the program's own instruction offsets.
                (Program::load(prog, &opts)?, false)
            } else {
                opts.maps.push(&result);
                let wrapped = typed_wrapper(prog, result_idx);
                match Program::load(&wrapped, &opts) {
                    Ok(p) => (p, true),
                    Err(wrapper_err) => {
                        // The program alone decides the verdict: if it loads directly, only the
                        // wrapper was the problem (e.g. ld_abs with subprograms).
                        opts.maps.pop();
                        match Program::load(prog, &opts) {
                            Ok(p) => (p, false),
                            Err(e @ Error::Verifier { .. }) => return Err(e),
                            Err(_) => return Err(wrapper_err),
                        }
                    }
                }
            };
            let added_header = pulls_ethernet_header(t);
            let packet = if added_header {
                with_ethernet_header(input.packet)
            } else {
                input.packet.to_vec()
            };
            Ok(Prepared {
                program,
                result,
                mem_map: None,
                mem_len: None,
                packet,
                ctx: input.ctx.to_vec(),
                wide,
                added_header,
                cpu: input.cpu,
            })
        }
    }
}

impl Prepared {
    /// The verifier log (empty unless [`RunInput::want_log`] was set).
    pub fn log(&self) -> &str {
        self.program.log()
    }

    /// Test-runs the program `repeat` times (0 or 1: once) from the original input; the
    /// memory or packet carries over from one repetition to the next within the call, as the
    /// kernel runs them back to back.
    pub fn run(&self, repeat: u32) -> Result<RunOutput, Error> {
        if let Some((m, mem)) = &self.mem_map {
            m.update(&0u32.to_le_bytes(), mem, crate::map::UpdateFlags::Any)?;
        }
        let out = self.program.test_run(&TestRun {
            data: &self.packet,
            ctx: &self.ctx,
            repeat,
            flags: 0,
            cpu: self.cpu,
        })?;
        let r0 = if self.wide {
            read_r0(&self.result)?
        } else {
            out.retval as u64
        };
        let (data, ctx) = match (&self.mem_map, self.mem_len) {
            (Some((m, _)), _) => (
                m.lookup(&0u32.to_le_bytes())?.unwrap_or_default(),
                Vec::new(),
            ),
            // The packet was padded to the minimum size: give back the memory only.
            (None, Some(len)) => {
                let mut d = out.data;
                d.truncate(len);
                (d, Vec::new())
            }
            // The kernel pushed the header back (zeroed) before copying the packet out: the
            // user's packet is what follows it.
            (None, None) if self.added_header => {
                let mut d = out.data;
                d.drain(..ETH_HLEN.min(d.len()));
                (d, out.ctx)
            }
            (None, None) => (out.data, out.ctx),
        };
        Ok(RunOutput {
            r0,
            r0_bits: if self.wide { 64 } else { 32 },
            ns_per_run: out.duration_ns,
            data,
            ctx,
            log: self.program.log().to_string(),
        })
    }
}

/// Loads and runs a program once (or `repeat` times) in the kernel; see the module docs.
pub fn run(prog: &[Insn], input: &RunInput<'_>) -> Result<RunOutput, Error> {
    prepare(prog, input)?.run(input.repeat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm::isa::{op, CallKind, Form};

    #[test]
    fn mem_wrapper_targets() {
        let prog = [Insn::mov64_imm(0, 7), Insn::exit()];
        let w = mem_wrapper(&prog, 16, 0);
        let call = w
            .iter()
            .position(|i| i.form() == Some(Form::Call(CallKind::Local)))
            .unwrap();
        // The call lands on the program's first instruction.
        assert_eq!(w[call].jump_target(slots(&w[..call])), Some(slots(&w) - 2));
        let is_bounds_check = |i: &Insn| i.code == op::JGT_REG;
        let jgt = w.iter().position(is_bounds_check).unwrap();
        let fail = w[jgt].jump_target(slots(&w[..jgt])).unwrap();
        assert_eq!(w[w.len() - 4], Insn::mov64_imm(0, 0));
        assert_eq!(fail, slots(&w) - 4);
        // No bounds check when there is no memory.
        assert!(!mem_wrapper(&prog, 0, 0).iter().any(is_bounds_check));
    }

    #[test]
    fn ethernet_header_carries_the_ethertype_only() {
        let mut pkt: Vec<u8> = (1..=20).collect();
        pkt[12] = 0x08;
        pkt[13] = 0x06;
        let d = with_ethernet_header(&pkt);
        assert_eq!(d.len(), 34);
        assert_eq!(&d[..12], &[0; 12]);
        assert_eq!(&d[12..14], &[0x08, 0x06]);
        assert_eq!(&d[14..], &pkt[..]);
        // Shorter than a header: Ethertype 0.
        assert_eq!(with_ethernet_header(&[7; 13])[..14], [0; 14]);
        assert_eq!(with_ethernet_header(&[]), vec![0; 14]);
        assert!(pulls_ethernet_header(ProgType::SocketFilter));
        assert!(!pulls_ethernet_header(ProgType::SchedCls));
        assert!(!pulls_ethernet_header(ProgType::Xdp));
    }

    #[test]
    fn typed_wrapper_targets() {
        let prog = [Insn::mov64_imm(0, 7), Insn::exit()];
        let w = typed_wrapper(&prog, 3);
        assert_eq!(1 + w[0].imm as usize, 5);
        assert_eq!(w[1].imm, 3);
        assert_eq!(&w[4..], &prog);
    }
}
