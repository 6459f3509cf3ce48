//! Context accesses, bpfx's verifier against the kernel's (issue 18, item 3): for every
//! program type with a context table (`asm::types::ctx`), every expected attach type that
//! changes the rules, every offset of the structure (and a little beyond), every size
//! (1, 2, 4, 8), a load and a store — one minimal program each, verified by bpfx and loaded
//! by the kernel. Verdicts and first messages must agree; the counts are printed.
//!
//! Structures larger than 256 bytes (tracepoint records, syscall arguments) are probed at
//! their start and their end. `tracing` programs are left out: their context is typed by
//! the attach target's BTF. Without bpf() the test prints `skipped: ...` and passes.

use asm::isa::Size;
use asm::types::ctx::layout;
use asm::types::{AttachType as At, ProgType as Pt};
use asm::Insn;

/// Program types and the expected attach types to load them with.
const CASES: &[(Pt, Option<At>)] = &[
    (Pt::SocketFilter, None),
    (Pt::SchedCls, None),
    (Pt::SchedAct, None),
    (Pt::CgroupSkb, None),
    (Pt::LwtIn, None),
    (Pt::LwtOut, None),
    (Pt::LwtXmit, None),
    (Pt::LwtSeg6local, None),
    (Pt::SkSkb, None),
    (Pt::FlowDissector, None),
    (Pt::Xdp, None),
    (Pt::Xdp, Some(At::XdpDevmap)),
    (Pt::Kprobe, None),
    (Pt::Tracepoint, None),
    (Pt::PerfEvent, None),
    (Pt::RawTracepoint, None),
    (Pt::RawTracepointWritable, None),
    (Pt::Syscall, None),
    (Pt::CgroupSock, None),
    (Pt::CgroupSock, Some(At::CgroupInet4PostBind)),
    (Pt::CgroupSock, Some(At::CgroupInet6PostBind)),
    (Pt::CgroupSockAddr, Some(At::CgroupInet4Connect)),
    (Pt::CgroupSockAddr, Some(At::CgroupInet6Connect)),
    (Pt::CgroupSockAddr, Some(At::CgroupUdp4Sendmsg)),
    (Pt::CgroupSockAddr, Some(At::CgroupUdp6Sendmsg)),
    (Pt::CgroupSockAddr, Some(At::CgroupUnixConnect)),
    (Pt::SockOps, None),
    (Pt::SkMsg, None),
    (Pt::SkReuseport, Some(At::SkReuseportSelect)),
    (Pt::SkReuseport, Some(At::SkReuseportSelectOrMigrate)),
    (Pt::SkLookup, Some(At::SkLookup)),
    (Pt::CgroupDevice, None),
    (Pt::CgroupSysctl, None),
    (Pt::CgroupSockopt, Some(At::CgroupGetsockopt)),
    (Pt::CgroupSockopt, Some(At::CgroupSetsockopt)),
    (Pt::Netfilter, Some(At::Netfilter)),
];

const SIZES: [Size; 4] = [Size::B, Size::H, Size::W, Size::DW];

/// `r0 = *(size *)(r1 + off)` or `*(size *)(r1 + off) = r2` (a scalar), then `return 0`.
fn program(off: i16, size: Size, write: bool) -> Vec<Insn> {
    let access = if write {
        Insn::stx(size, 1, 2, off)
    } else {
        Insn::ldx(size, 0, 1, off)
    };
    vec![
        Insn::mov64_imm(2, 0),
        access,
        Insn::mov64_imm(0, 0),
        Insn::exit(),
    ]
}

fn offsets(size: u32) -> Vec<i64> {
    let size = size as i64;
    if size <= 256 {
        (-4..size + 8).collect()
    } else {
        (-4..72).chain(size - 24..size + 8).collect()
    }
}

/// The first line of a verdict: "accept", or "reject ERRNO MESSAGE".
fn bpfx_verdict(prog: &[Insn], t: Pt, attach: Option<At>) -> Result<String, String> {
    let mut o = verifier::Options::new(t);
    o.expected_attach_type = attach.map(|a| a.number());
    match verifier::verify(prog, &o) {
        Ok(_) => Ok("accept".into()),
        Err(r) if r.kind == verifier::RejectKind::Unsupported => Err(r.message),
        Err(r) => Ok(format!("reject {} {}", r.errno, r.message)),
    }
}

fn kernel_verdict(prog: &[Insn], t: Pt, attach: Option<At>) -> Result<String, String> {
    let mut load = kernel::LoadOptions::new(t);
    load.expected_attach_type = attach;
    if t == Pt::Syscall {
        load.flags |= kernel::object::BPF_F_SLEEPABLE;
    }
    match kernel::Program::load(prog, &load) {
        Ok(_) => Ok("accept".into()),
        Err(e) if e.is_unavailable() => Err(e.to_string()),
        Err(e) => {
            let message = e
                .verifier_log()
                .and_then(kernel::error::first_error_line)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string());
            Ok(format!("reject {} {message}", e.errno().map_or(0, |n| n.0)))
        }
    }
}

#[test]
fn context_accesses_match_the_kernel() {
    if !test_support::kernel_available("ctx_differential") {
        return;
    }
    let (mut total, mut agree, mut declined) = (0, 0, 0);
    let mut verdict_diffs = Vec::new();
    let mut message_diffs = Vec::new();
    for &(t, attach) in CASES {
        let l = layout(t).expect("every listed type has a layout");
        let mut per_type = (0, 0);
        for off in offsets(l.size) {
            for size in SIZES {
                for write in [false, true] {
                    let prog = program(off as i16, size, write);
                    let k = match kernel_verdict(&prog, t, attach) {
                        Ok(v) => v,
                        Err(e) => {
                            println!("skipped: kernel unavailable ({e}) [ctx_differential]");
                            return;
                        }
                    };
                    total += 1;
                    per_type.0 += 1;
                    let b = match bpfx_verdict(&prog, t, attach) {
                        Ok(v) => v,
                        Err(why) => {
                            declined += 1;
                            message_diffs.push(format!("{t} {attach:?} declined: {why}"));
                            continue;
                        }
                    };
                    let what = format!(
                        "{t} {attach:?} {} off={off} size={}",
                        if write { "store" } else { "load" },
                        size.bytes()
                    );
                    if b == k {
                        agree += 1;
                        per_type.1 += 1;
                    } else if b.starts_with("accept") != k.starts_with("accept") {
                        verdict_diffs.push(format!("{what}: kernel `{k}`, bpfx `{b}`"));
                    } else {
                        message_diffs.push(format!("{what}: kernel `{k}`, bpfx `{b}`"));
                    }
                }
            }
        }
        println!("{t} {attach:?}: {}/{} agree", per_type.1, per_type.0);
    }
    println!(
        "context accesses: {agree}/{total} agree (verdict and first message); {} verdict \
         differences, {} message differences, {declined} declined",
        verdict_diffs.len(),
        message_diffs.len()
    );
    for d in message_diffs.iter().take(20) {
        println!("message: {d}");
    }
    assert!(
        verdict_diffs.is_empty(),
        "{} verdict differences, e.g.:\n{}",
        verdict_diffs.len(),
        verdict_diffs[..verdict_diffs.len().min(400)].join("\n")
    );
}
