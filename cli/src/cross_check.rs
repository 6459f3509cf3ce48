//! `bpfx cross-check`: the same program in the VM and in the kernel, side by side.
//!
//! Exit status: 0 they agree, 1 they differ (the report says where), 2 usage or I/O error,
//! 77 the kernel cannot be used here (the reason on stderr).

use crate::exit::EXIT_UNAVAILABLE;
use crate::load::{self, RunArgs};
use anyhow::{anyhow, Result};
use asm::Insn;
use harness::single::{run_kernel, run_vm, KernelRun};
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

/// `--verify`: bpfx's verifier and the kernel's on the same program and maps.
fn compare_verifiers(
    prog: &[Insn],
    a: &RunArgs,
    maps: &[obj::Map],
    prog_type: ::kernel::ProgType,
) -> Result<ExitCode> {
    if let Err(why) = ::kernel::probe::availability() {
        eprintln!("kernel unavailable: {why}");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let mut opts = verifier::Options::new(prog_type);
    opts.maps = maps.iter().map(|m| m.spec.clone()).collect();
    let owned = harness::create_kernel_maps(maps).map_err(|e| anyhow!("creating the maps: {e}"))?;
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
    let mut loaded = load::load_run_program(a)?;
    let inputs = load::read_inputs(a, &mut loaded.program)?;
    let prog = &loaded.program;
    if args.verify {
        let t = prog.prog_type.unwrap_or(::kernel::ProgType::SocketFilter);
        return compare_verifiers(&prog.insns, a, &prog.maps, t);
    }
    if let Some(t) = prog.prog_type.filter(|t| !t.can_test_run()) {
        // Without a test run there is nothing to compare but the verdict: say so, as for
        // any other reason the kernel cannot be used here.
        eprintln!("kernel unavailable: {t} programs cannot be test-run by the kernel (BPF_PROG_TEST_RUN); try --verify");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let vm_side = run_vm(prog, &inputs).map_err(|e| anyhow!(e))?;
    let k = match run_kernel(
        prog,
        loaded.object.as_ref().map(|(o, i)| (o, *i)),
        &inputs,
        a.mem_in_map,
    )
    .map_err(|e| anyhow!(e))?
    {
        KernelRun::Unavailable(why) => {
            eprintln!("kernel unavailable: {why}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        KernelRun::Ran(s) => *s,
    };
    let rows = harness::compare(&vm_side, &k, prog.prog_type.is_none());
    let agree = rows.iter().all(|r| r.agree);
    if a.json {
        let v = json!({
            "agree": agree,
            "rows": rows.iter().map(|r| json!({"what": r.what, "kernel": r.kernel, "vm": r.vm, "agree": r.agree})).collect::<Vec<_>>(),
            "differences": rows.iter().filter(|r| !r.agree).map(|r| r.what.clone()).collect::<Vec<_>>(),
            "not_compared": rows.iter().filter(|r| !r.compared).map(|r| r.what.clone()).collect::<Vec<_>>(),
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
            let mark = match (r.compared, r.agree) {
                (false, _) => "?",
                (true, true) => " ",
                (true, false) => "≠",
            };
            println!("{mark}{:<lw$} {:<w$}  {}", r.what, r.kernel, r.vm);
        }
        let not: Vec<_> = rows
            .iter()
            .filter(|r| !r.compared)
            .map(|r| r.what.as_str())
            .collect();
        if agree && not.is_empty() {
            println!("agree");
        } else if agree {
            println!(
                "agree on what was compared; not compared: {}",
                not.join(", ")
            );
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
