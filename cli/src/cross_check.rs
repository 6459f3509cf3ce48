//! `bpfx cross-check`: the same program in the VM and in the kernel, side by side.
//!
//! Exit status: 0 they agree, 1 they differ (the report says where), 2 usage or I/O error,
//! 77 the kernel cannot be used here (the reason on stderr).

use crate::kernel::{
    create_kernel_maps, hex, load_run_program, read_inputs_for, MapInit, RunArgs, EXIT_UNAVAILABLE,
};
use ::kernel::run::{run, RunInput};
use anyhow::{anyhow, Result};
use asm::isa::Pseudo;
use asm::Insn;
use serde_json::json;
use std::process::ExitCode;

/// Run a program in the VM and in the kernel and compare: verdict, r0, memory or packet,
/// context, and map contents after the run.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit status: 0 agree, 1 differ, 77 kernel unavailable (reason on stderr).

Examples:
  bpfx cross-check prog.s --mem-hex '01 02 03 04'
  bpfx cross-check --type xdp --packet pkt.bin --map array:4:8:1 prog.bin
  bpfx cross-check --verify --type xdp prog.s     bpfx's verifier against the kernel's")]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Compare verifiers instead of runs: bpfx's verdict and first message against what
    /// BPF_PROG_LOAD says (type from --type, socket_filter by default; maps from --map).
    #[arg(long)]
    pub verify: bool,
}

/// What one engine did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Side {
    /// `Ok` accepted (and ran), `Err` the refusal or fault.
    verdict: Result<(), String>,
    r0: Option<u64>,
    /// Bits of r0 that are known.
    r0_bits: u8,
    data: Vec<u8>,
    ctx: Vec<u8>,
    /// Per map: sorted (key, value) pairs.
    maps: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
}

fn run_vm(prog: &[Insn], inputs: &crate::kernel::Inputs, maps: &[MapInit]) -> Result<Side> {
    let vm_type = inputs.prog_type;
    if let Some(t) = vm_type.filter(|t| !vm::SUPPORTED_PROG_TYPES.contains(t)) {
        return Err(anyhow!("the VM cannot run {t} programs"));
    }
    let mut machine = vm::Vm::new();
    let mut fds = Vec::new();
    for m in maps {
        let def = vm::MapSpec::new(
            m.arg.map_type,
            m.arg.key_size,
            m.arg.value_size,
            m.arg.max_entries,
        )
        .with_flags(m.flags);
        let fd = machine
            .create_map(def)
            .map_err(|e| anyhow!("VM map {} `{}`: {e}", fds.len(), m.name))?;
        if let Some(d) = &m.data {
            machine
                .map_mut(fd)
                .ok_or_else(|| anyhow!("VM map {fd} vanished"))?
                .update(&0u32.to_le_bytes(), d, vm::BPF_ANY)
                .map_err(|e| anyhow!("VM map `{}`: {e}", m.name))?;
        }
        fds.push(fd);
    }
    // Programs name maps by index, as the VM does; say which index is missing before the
    // VM's own load error would.
    for (i, insn) in prog.iter().enumerate() {
        if matches!(insn.pseudo(), Some(Pseudo::MapFd | Pseudo::MapValue)) {
            let idx = insn.imm as u32 as usize;
            if idx >= fds.len() {
                return Err(anyhow!("instruction {i}: `lddw` refers to map {idx} but {} map(s) were given with --map", fds.len()));
            }
        }
    }
    let empty = |verdict| Side {
        verdict,
        r0: None,
        r0_bits: 64,
        data: vec![],
        ctx: vec![],
        maps: vec![],
    };
    let id = match machine.load_insns(prog, vm_type) {
        Ok(id) => id,
        Err(e) => return Ok(empty(Err(format!("refuses: {e}")))),
    };
    machine.set_mem(inputs.mem.clone());
    machine.set_packet(inputs.packet.clone());
    machine.set_ctx(inputs.ctx.clone());
    let out = match machine.run(id) {
        Ok(o) => o,
        Err(e) => return Ok(empty(Err(format!("faults: {e}")))),
    };
    let data = if inputs.prog_type.is_none() {
        machine.mem().to_vec()
    } else {
        machine.packet().to_vec()
    };
    let ctx = machine.ctx().to_vec();
    let mut map_dump = Vec::new();
    for fd in &fds {
        let m = machine
            .map(*fd)
            .ok_or_else(|| anyhow!("VM map {fd} vanished"))?;
        if m.spec().map_type == vm::MapType::Ringbuf {
            map_dump.push(Vec::new());
            continue;
        }
        let mut entries = Vec::new();
        for k in m.keys() {
            if let Ok(Some(v)) = m.lookup(&k) {
                entries.push((k, v));
            }
        }
        entries.sort();
        map_dump.push(entries);
    }
    Ok(Side {
        verdict: Ok(()),
        r0: Some(out.r0),
        r0_bits: 64,
        data,
        ctx,
        maps: map_dump,
    })
}

enum KernelSide {
    Unavailable(String),
    Ran(Side),
}

fn run_kernel(
    prog: &[Insn],
    args: &RunArgs,
    inputs: &crate::kernel::Inputs,
    maps: &[MapInit],
) -> Result<KernelSide> {
    if let Err(why) = ::kernel::probe::availability() {
        return Ok(KernelSide::Unavailable(why));
    }
    let owned = match create_kernel_maps(maps) {
        Ok(m) => m,
        Err(e) if e.is_unavailable() => return Ok(KernelSide::Unavailable(e.to_string())),
        Err(e) => return Err(anyhow!("kernel maps: {e}")),
    };
    let input = RunInput {
        prog_type: inputs.prog_type,
        mem: &inputs.mem,
        packet: &inputs.packet,
        ctx: &inputs.ctx,
        repeat: 1,
        maps: owned.iter().collect(),
        want_log: false,
        mem_in_map: args.mem_in_map,
    };
    let out = match run(prog, &input) {
        Ok(o) => o,
        Err(e) if e.is_unavailable() => return Ok(KernelSide::Unavailable(e.to_string())),
        Err(e) => {
            let empty = Side {
                verdict: Err(e.to_string()),
                r0: None,
                r0_bits: 64,
                data: vec![],
                ctx: vec![],
                maps: vec![],
            };
            return Ok(KernelSide::Ran(empty));
        }
    };
    let mut map_dump = Vec::new();
    for m in &owned {
        // A ring buffer has no keys (its records are read through mmap, which bpfx does not
        // do in the kernel): both sides show it empty.
        if m.spec().map_type == asm::types::MapType::Ringbuf {
            map_dump.push(Vec::new());
            continue;
        }
        let mut entries = m
            .entries()
            .map_err(|e| anyhow!("reading a kernel map: {e}"))?;
        entries.sort();
        map_dump.push(entries);
    }
    Ok(KernelSide::Ran(Side {
        verdict: Ok(()),
        r0: Some(out.r0),
        r0_bits: out.r0_bits,
        data: out.data,
        ctx: out.ctx,
        maps: map_dump,
    }))
}

/// One compared aspect.
struct Row {
    what: String,
    kernel: String,
    vm: String,
    agree: bool,
}

fn compare(k: &Side, v: &Side, inputs: &crate::kernel::Inputs, names: &[String]) -> Vec<Row> {
    let verdict = |s: &Side, ok: &str| match &s.verdict {
        Ok(()) => ok.to_string(),
        Err(e) => e.clone(),
    };
    let mut rows = vec![Row {
        what: "verdict".into(),
        kernel: verdict(k, "accepts"),
        vm: verdict(v, "runs"),
        agree: k.verdict.is_ok() == v.verdict.is_ok(),
    }];
    if k.verdict.is_err() || v.verdict.is_err() {
        return rows;
    }
    let (kr, vr) = (k.r0.unwrap_or_default(), v.r0.unwrap_or_default());
    // When the kernel ran the program without the wrapper only 32 bits are known.
    let mask = if k.r0_bits == 64 {
        u64::MAX
    } else {
        0xffff_ffff
    };
    let note = if k.r0_bits == 64 {
        ""
    } else {
        " (32 bits known)"
    };
    rows.push(Row {
        what: "r0".into(),
        kernel: format!("{kr:#x}{note}"),
        vm: format!("{vr:#x}"),
        agree: kr & mask == vr & mask,
    });
    let data_name = if inputs.prog_type.is_none() {
        "memory"
    } else {
        "packet"
    };
    // Both engines give back the packet as the program saw it at skb->data (the kernel
    // backend strips the Ethernet header it adds for socket filters; see kernel::run).
    if !k.data.is_empty() || !v.data.is_empty() {
        rows.push(bytes_row(data_name, &k.data, &v.data));
    }
    // The context is only compared when the user gave one: otherwise each engine builds
    // its own (the kernel reports nothing back).
    if !inputs.ctx.is_empty() && !k.ctx.is_empty() {
        // The VM's context may be the kernel's structure plus fields it synthesises past
        // the end of what the user gave: compare what both have.
        let n = k.ctx.len().min(v.ctx.len());
        rows.push(bytes_row("context", &k.ctx[..n], &v.ctx[..n]));
    }
    for (i, (km, vm)) in k.maps.iter().zip(&v.maps).enumerate() {
        let name = names.get(i).map(|n| format!(" `{n}`")).unwrap_or_default();
        let show = |m: &Vec<(Vec<u8>, Vec<u8>)>| {
            m.iter()
                .map(|(k, v)| format!("{}={}", hex(k), hex(v)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        rows.push(Row {
            what: format!("map {i}{name}"),
            kernel: show(km),
            vm: show(vm),
            agree: km == vm,
        });
    }
    rows
}

/// Bytes shown at most per side; the first difference is named.
const SHOW: usize = 16;

fn bytes_row(what: &str, k: &[u8], v: &[u8]) -> Row {
    let show = |b: &[u8]| {
        if b.len() <= SHOW {
            hex(b)
        } else {
            format!("{}… ({} bytes)", hex(&b[..SHOW]), b.len())
        }
    };
    let agree = k == v;
    let mut vm = show(v);
    if !agree {
        match k.iter().zip(v).position(|(a, b)| a != b) {
            Some(i) => vm.push_str(&format!(
                " [first difference at byte {i}: {:#04x} vs {:#04x}]",
                k[i], v[i]
            )),
            None => vm.push_str(&format!(" [lengths differ: {} vs {}]", k.len(), v.len())),
        }
    }
    Row {
        what: what.into(),
        kernel: show(k),
        vm,
        agree,
    }
}

/// `--verify`: bpfx's verifier and the kernel's on the same program and maps.
fn compare_verifiers(
    prog: &[Insn],
    a: &RunArgs,
    maps: &[crate::kernel::MapInit],
    prog_type: ::kernel::ProgType,
) -> Result<ExitCode> {
    if let Err(why) = ::kernel::probe::availability() {
        eprintln!("kernel unavailable: {why}");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let mut opts = verifier::Options::new(prog_type);
    for m in maps {
        let mut d = verifier::MapDef::new(
            &m.name,
            m.arg.map_type,
            m.arg.key_size,
            m.arg.value_size,
            m.arg.max_entries,
        );
        d.flags = m.flags;
        opts.maps.push(d);
    }
    let owned =
        crate::kernel::create_kernel_maps(maps).map_err(|e| anyhow!("creating the maps: {e}"))?;
    let ours = match verifier::verify(prog, &opts) {
        Ok(_) => Ok(()),
        Err(r) => Err((r.message.clone(), r.errno)),
    };
    let mut load = ::kernel::LoadOptions::new(prog_type);
    load.maps = owned.iter().collect();
    let theirs = match ::kernel::Program::load(prog, &load) {
        Ok(_) => Ok(()),
        Err(e) if e.is_unavailable() => {
            eprintln!("kernel unavailable: {e}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        Err(e) => {
            let msg = e
                .verifier_log()
                .and_then(::kernel::error::first_error_line)
                .map(str::to_string);
            Err((
                msg.unwrap_or_else(|| e.to_string()),
                e.errno().map_or(0, |n| n.0),
            ))
        }
    };
    let show = |v: &Result<(), (String, i32)>| match v {
        Ok(()) => "accept".to_string(),
        Err((m, errno)) => format!("reject (errno {errno}): {m}"),
    };
    let verdict_agrees = ours.is_ok() == theirs.is_ok();
    let message_agrees = match (&ours, &theirs) {
        (Err((a, _)), Err((b, _))) => a == b,
        _ => verdict_agrees,
    };
    if a.json {
        let v = json!({
            "agree": verdict_agrees && message_agrees,
            "verdict_agrees": verdict_agrees,
            "message_agrees": message_agrees,
            "kernel": show(&theirs),
            "bpfx": show(&ours),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("kernel: {}", show(&theirs));
        println!("bpfx:   {}", show(&ours));
        println!(
            "{}",
            match (verdict_agrees, message_agrees) {
                (true, true) => "agree",
                (true, false) => "differ: first message",
                _ => "differ: verdict",
            }
        );
    }
    Ok(if verdict_agrees && message_agrees {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn main(args: Args) -> Result<ExitCode> {
    let a = &args.run;
    let loaded = load_run_program(a)?;
    let prog = loaded.insns;
    let inputs = read_inputs_for(a, loaded.section_type)?;
    if args.verify {
        let t = inputs.prog_type.unwrap_or(::kernel::ProgType::SocketFilter);
        return compare_verifiers(&prog, a, &loaded.maps, t);
    }
    if let Some(t) = inputs.prog_type.filter(|t| !t.can_test_run()) {
        // Without a test run there is nothing to compare but the verdict: say so, as for
        // any other reason the kernel cannot be used here.
        eprintln!("kernel unavailable: {t} programs cannot be test-run by the kernel (BPF_PROG_TEST_RUN); try --verify");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let vm_side = run_vm(&prog, &inputs, &loaded.maps)?;
    let k = match run_kernel(&prog, a, &inputs, &loaded.maps)? {
        KernelSide::Unavailable(why) => {
            eprintln!("kernel unavailable: {why}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        KernelSide::Ran(s) => s,
    };
    // An object's maps are shown with their names; --map maps by index only.
    let names: Vec<String> = if loaded.section_type.is_some() {
        loaded.maps.iter().map(|m| m.name.clone()).collect()
    } else {
        Vec::new()
    };
    let rows = compare(&k, &vm_side, &inputs, &names);
    let agree = rows.iter().all(|r| r.agree);
    if a.json {
        let v = json!({
            "agree": agree,
            "rows": rows.iter().map(|r| json!({"what": r.what, "kernel": r.kernel, "vm": r.vm, "agree": r.agree})).collect::<Vec<_>>(),
            "differences": rows.iter().filter(|r| !r.agree).map(|r| r.what.clone()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let w = rows
            .iter()
            .map(|r| r.kernel.len())
            .max()
            .unwrap_or(0)
            .clamp(6, 40);
        let lw = rows.iter().map(|r| r.what.len()).max().unwrap_or(0).max(8);
        println!(" {:<lw$} {:<w$}  vm", "", "kernel");
        for r in &rows {
            let mark = if r.agree { " " } else { "≠" };
            println!("{mark}{:<lw$} {:<w$}  {}", r.what, r.kernel, r.vm);
        }
        if agree {
            println!("agree");
        } else {
            let d: Vec<_> = rows
                .iter()
                .filter(|r| !r.agree)
                .map(|r| r.what.as_str())
                .collect();
            println!("differ: {}", d.join(", "));
        }
    }
    Ok(if agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
