//! bpfx's verifier against the kernel on helper calls (issue #18): every helper id in every
//! loadable program type with plausible arguments, under a GPL and a proprietary licence
//! (availability, the GPL rule), and `might_sleep` helpers. Without bpf() the kernel halves
//! print `skipped: kernel unavailable (<reason>)`.

#[path = "common/kdiff.rs"]
mod kdiff;

use asm::isa::{AluOp, Size};
use asm::types::{AttachType, ProgType};
use asm::Insn;
use kdiff::Verdict;

/// The loadable program types with the `expected_attach_type` each is loaded with (types
/// that need an attach target, a BTF id, a device or `BPF_F_SLEEPABLE` are left out:
/// tracing, lsm, struct_ops, ext, lirc_mode2, syscall).
const LOADABLE: &[(ProgType, Option<AttachType>)] = &[
    (ProgType::SocketFilter, None),
    (ProgType::Kprobe, None),
    (ProgType::SchedCls, None),
    (ProgType::SchedAct, None),
    (ProgType::Tracepoint, None),
    (ProgType::Xdp, None),
    (ProgType::PerfEvent, None),
    (ProgType::CgroupSkb, None),
    (ProgType::CgroupSock, Some(AttachType::CgroupInetSockCreate)),
    (ProgType::LwtIn, None),
    (ProgType::LwtOut, None),
    (ProgType::LwtXmit, None),
    (ProgType::SockOps, None),
    (ProgType::SkSkb, None),
    (ProgType::CgroupDevice, Some(AttachType::CgroupDevice)),
    (ProgType::SkMsg, None),
    (ProgType::RawTracepoint, None),
    (
        ProgType::CgroupSockAddr,
        Some(AttachType::CgroupInet4Connect),
    ),
    (ProgType::LwtSeg6local, None),
    (ProgType::SkReuseport, Some(AttachType::SkReuseportSelect)),
    (ProgType::FlowDissector, Some(AttachType::FlowDissector)),
    (ProgType::CgroupSysctl, Some(AttachType::CgroupSysctl)),
    (ProgType::RawTracepointWritable, None),
    (ProgType::CgroupSockopt, Some(AttachType::CgroupGetsockopt)),
    (ProgType::SkLookup, Some(AttachType::SkLookup)),
    (ProgType::Netfilter, Some(AttachType::Netfilter)),
];

/// A call of helper `id` with arguments that fit its prototype where that is easy: the
/// context, map 0, zeroed stack memory of 8 bytes and its size, 0 for the rest.
fn helper_call_program(id: i32) -> Vec<Insn> {
    use asm::types::helpers::ArgBase;
    let mut out = vec![Insn::mov64_reg(6, 1), Insn::mov64_imm(0, 0)];
    for off in (-64..0).step_by(8) {
        out.push(Insn::stx(Size::DW, 10, 0, off));
    }
    let args = u32::try_from(id)
        .ok()
        .and_then(asm::types::helpers::get)
        .map_or(&[][..], |h| h.args);
    for (n, a) in args.iter().enumerate() {
        let r = n as u8 + 1;
        match a.base {
            ArgBase::PtrToCtx => out.push(Insn::mov64_reg(r, 6)),
            ArgBase::ConstMapPtr => out.push(Insn::ld_map_fd(r, 0)),
            ArgBase::PtrToMapKey | ArgBase::PtrToMapValue | ArgBase::PtrToMem => {
                out.push(Insn::mov64_reg(r, 10));
                out.push(Insn::alu64_imm(AluOp::Add, r, -16 - 16 * n as i32));
            }
            ArgBase::ConstSize | ArgBase::ConstSizeOrZero | ArgBase::ConstAllocSizeOrZero => {
                out.push(Insn::mov64_imm(r, 8))
            }
            _ => out.push(Insn::mov64_imm(r, 0)),
        }
    }
    out.extend([Insn::call_helper(id), Insn::mov64_imm(0, 0), Insn::exit()]);
    out
}

/// The class of a verdict for the availability comparison.
fn availability_class(v: &Verdict) -> &'static str {
    match v {
        Verdict::Accept => "accept",
        Verdict::Reject { message, .. } if message.contains("cannot use helper") => {
            "cannot use helper"
        }
        Verdict::Reject { message, .. } if message.starts_with("invalid func") => "invalid func",
        Verdict::Reject { message, .. } if message.starts_with("cannot call GPL") => "gpl",
        Verdict::Reject { .. } => "other",
    }
}

/// Every helper id (0..=212) in every loadable program type, with plausible arguments and
/// a GPL or a proprietary licence: bpfx and the kernel agree on the class of the answer
/// (accepted / "cannot use helper" / "invalid func" / GPL-restricted / other reject), and
/// where both refuse for availability or the licence on the exact message. Calls bpfx declines (unsupported) are counted, not compared.
#[test]
fn helper_availability_matches_kernel() {
    if let Err(reason) = kernel::probe::availability() {
        println!("skipped: kernel unavailable ({reason})");
        return;
    }
    let maps = kdiff::kernel_maps().expect("maps");
    let (mut agree, mut unsupported, mut types) = (0, 0, 0);
    let mut wrong = Vec::new();
    // A GPL licence, and one that is not GPL-compatible (gpl_only helpers are refused).
    for (&(t, attach), license) in LOADABLE
        .iter()
        .flat_map(|ta| [(ta, "GPL"), (ta, "Proprietary")])
    {
        let mut load = kernel::LoadOptions::new(t);
        load.maps = maps.iter().collect();
        load.expected_attach_type = attach;
        load.license = license.into();
        let mut opts = kdiff::options(t);
        opts.expected_attach_type = attach.map(AttachType::number);
        opts.license = license.into();
        // Types this kernel does not load at all (a missing config) are left out.
        if matches!(kernel::Program::load(&[Insn::mov64_imm(0, 0), Insn::exit()], &load), Err(e) if e.is_unavailable())
        {
            continue;
        }
        types += usize::from(license == "GPL");
        for id in 0..=asm::types::helpers::MAX_ID as i32 {
            let prog = helper_call_program(id);
            let k = match kernel::Program::load(&prog, &load) {
                Ok(_) => Verdict::Accept,
                Err(e) => Verdict::Reject {
                    errno: e.errno().map_or(0, |n| n.0),
                    message: e
                        .verifier_log()
                        .and_then(kernel::error::first_error_line)
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string()),
                },
            };
            let b = match verifier::verify(&prog, &opts) {
                Ok(_) => Verdict::Accept,
                Err(r) if r.kind == verifier::RejectKind::Unsupported => {
                    unsupported += 1;
                    continue;
                }
                Err(r) => Verdict::Reject {
                    errno: r.errno,
                    message: r.message,
                },
            };
            let (kc, bc) = (availability_class(&k), availability_class(&b));
            let same = kc == bc && (kc == "accept" || kc == "other" || k == b);
            if same {
                agree += 1;
            } else {
                wrong.push(format!(
                    "{t} ({license}) helper {id}: kernel {}, bpfx {}",
                    k.render(),
                    b.render()
                ));
            }
        }
    }
    println!(
        "helper availability: {types} types x {} ids x 2 licences: {agree} agree, {} differ, {unsupported} declined by bpfx",
        asm::types::helpers::MAX_ID + 1,
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A program whose licence is not GPL-compatible may not call a `gpl_only` helper; the
/// same call with a GPL licence gets past the licence check (both verifiers).
#[test]
fn gpl_only_helpers_need_a_gpl_licence() {
    let prog = helper_call_program(6); // bpf_trace_printk: gpl_only
    let mut opts = kdiff::options(ProgType::Kprobe);
    opts.license = "MIT".into();
    let b = kdiff_verdict(verifier::verify(&prog, &opts));
    assert_eq!(
        b.render(),
        "reject 22 cannot call GPL-restricted function from non-GPL compatible program"
    );
    opts.license = "Dual BSD/GPL".into();
    assert!(!kdiff_verdict(verifier::verify(&prog, &opts))
        .render()
        .contains("GPL"));
    if let Err(reason) = kernel::probe::availability() {
        println!("skipped: kernel unavailable ({reason})");
        return;
    }
    let maps = kdiff::kernel_maps().expect("maps");
    let mut load = kernel::LoadOptions::new(ProgType::Kprobe);
    load.maps = maps.iter().collect();
    load.license = "MIT".into();
    let e = kernel::Program::load(&prog, &load).expect_err("the kernel refuses it");
    let first = e
        .verifier_log()
        .and_then(kernel::error::first_error_line)
        .unwrap_or("");
    assert_eq!(
        first,
        "cannot call GPL-restricted function from non-GPL compatible program"
    );
}

fn kdiff_verdict(r: Result<verifier::Accepted, verifier::Rejection>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accept,
        Err(r) => Verdict::Reject {
            errno: r.errno,
            message: r.message,
        },
    }
}

/// `might_sleep` helpers (`bpf_copy_from_user`) are refused to programs loaded without
/// `BPF_F_SLEEPABLE`, with the kernel's message; a sleepable program gets past that check.
#[test]
fn might_sleep_helpers_need_a_sleepable_program() {
    let prog = helper_call_program(148);
    let mut opts = kdiff::options(ProgType::Kprobe);
    let refused = kdiff_verdict(verifier::verify(&prog, &opts)).render();
    assert_eq!(
        refused,
        "reject 22 helper call might sleep in a non-sleepable prog"
    );
    opts.sleepable = true;
    assert!(!kdiff_verdict(verifier::verify(&prog, &opts))
        .render()
        .contains("might sleep"));
    if let Err(reason) = kernel::probe::availability() {
        println!("skipped: kernel unavailable ({reason})");
        return;
    }
    let maps = kdiff::kernel_maps().expect("maps");
    let mut load = kernel::LoadOptions::new(ProgType::Kprobe);
    load.maps = maps.iter().collect();
    let e = kernel::Program::load(&prog, &load).expect_err("the kernel refuses it");
    let first = e
        .verifier_log()
        .and_then(kernel::error::first_error_line)
        .unwrap_or("");
    assert_eq!(first, "helper call might sleep in a non-sleepable prog");
}
