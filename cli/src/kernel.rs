//! `bpfx kernel`: the running Linux kernel as a backend (probe, run, conformance).
//!
//! Exit status: 0 ok, 1 the program or a case failed (rejected, wrong result), 2 usage or
//! I/O error, 77 the kernel cannot be used here (the reason on stderr).

use crate::exit::EXIT_UNAVAILABLE;
use crate::input::{self, hex, hex_short};
use crate::load::{self, RunArgs};
use ::kernel::conformance::{run_case, Outcome};
use ::kernel::probe::{Jit, TypeProbe};
use ::kernel::run::{run, RunInput, RunOutput};
use ::kernel::ProgType;
use anyhow::{bail, Context, Result};
use asm::Insn;
use harness::engine::readback::Readback;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Talk to the running kernel through bpf(2).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `bpfx kernel` subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // RunArgs is parsed once
pub enum Command {
    /// Report the kernel release, whether bpf() is usable, the JIT, and which program types
    /// can be test-run here.
    Probe(ProbeArgs),
    /// Load a program into the kernel and test-run it (BPF_PROG_TEST_RUN).
    Run(RunArgs),
    /// Run conformance cases in the kernel.
    Conformance(ConformanceArgs),
}

/// `bpfx kernel probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `bpfx kernel conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// A JSON-lines file of assembled cases (`{"file", "prog", "mem", "result"}` with hex
    /// strings), as bpf_conformance's golden `tests.jsonl`.
    pub cases: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn main(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Probe(a) => probe(a),
        Command::Run(a) => run_main(a),
        Command::Conformance(a) => conformance_main(a),
    }
}

fn probe(args: ProbeArgs) -> Result<ExitCode> {
    let r = ::kernel::probe::report();
    let jit = match &r.jit {
        Jit::Off => "off (interpreter)".to_string(),
        Jit::On => "on".to_string(),
        Jit::Debug => "on (with debug dumps)".to_string(),
        Jit::Unknown(why) => format!("unknown ({why})"),
    };
    let status = |p: &TypeProbe| match p {
        TypeProbe::Runs => ("test-run".to_string(), None),
        TypeProbe::Loads(e) => ("loads, no test-run".to_string(), Some(e.to_string())),
        TypeProbe::Unloadable(e) => ("does not load".to_string(), Some(e.to_string())),
    };
    if args.json {
        let types: Vec<_> = r
            .types
            .iter()
            .map(|(t, p)| {
                let (s, why) = status(p);
                json!({"type": t.name(), "status": s, "test_run": matches!(p, TypeProbe::Runs), "reason": why})
            })
            .collect();
        let v = json!({
            "release": r.release,
            "bpf_usable": r.usable.is_ok(),
            "reason": r.usable.as_ref().err(),
            "jit": jit,
            "types": types,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("kernel:  {}", r.release.as_deref().unwrap_or("unknown"));
        match &r.usable {
            Ok(()) => println!("bpf():   usable by this user"),
            Err(why) => println!("bpf():   not usable: {why}"),
        }
        println!("JIT:     {jit}");
        if !r.types.is_empty() {
            let runs: Vec<_> = r
                .types
                .iter()
                .filter(|(_, p)| matches!(p, TypeProbe::Runs))
                .map(|(t, _)| t.name())
                .collect();
            println!("test-run: {}", runs.join(", "));
            println!();
            for (t, p) in &r.types {
                let (s, why) = status(p);
                match why {
                    Some(why) => println!("  {:<24} {s}: {why}", t.name()),
                    None => println!("  {:<24} {s}", t.name()),
                }
            }
        }
    }
    Ok(if r.usable.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNAVAILABLE)
    })
}

/// The JSON shape of a run.
fn output_json(out: &RunOutput, prog_type: Option<ProgType>, repeat: u32) -> serde_json::Value {
    // The same keys as `bpfx run --json`, plus what only the kernel side has.
    json!({
        "engine": "kernel",
        "type": prog_type.map_or("plain", |t| t.name()),
        "r0": format!("{:#x}", out.r0),
        "r0_bits": out.r0_bits,
        "meaning": prog_type.and_then(|t| t.r0_meaning(out.r0)),
        "insns": null,
        "ns_per_run": out.ns_per_run,
        "repeat": repeat,
        "data": hex(&out.data),
        "ctx": hex(&out.ctx),
    })
}

fn run_main(args: RunArgs) -> Result<ExitCode> {
    let mut loaded = load::load_run_program(&args)?;
    let inputs = load::read_inputs(&args, &mut loaded.program)?;
    let prog = &loaded.program;
    // An object's program is loaded as libbpf's bpf_object__load does (BTF, func_info and
    // line_info, `.rodata` frozen, expected_attach_type), with the program's maps.
    let object = loaded.object.as_ref().map(|(o, i)| {
        let mut o = o.clone();
        o.maps = prog.maps.clone();
        (o, *i)
    });
    let created = match &object {
        Some((o, _)) => ::kernel::object::Loader::new(o).map(|l| (Some(l), Vec::new())),
        None => harness::create_kernel_maps(&prog.maps).map(|m| (None, m)),
    };
    let (loader, plain) = match created {
        Ok(c) => c,
        Err(e) if e.is_unavailable() => {
            eprintln!("kernel unavailable: {e}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        Err(e) => bail!("creating the maps: {e}"),
    };
    let maps: &[::kernel::Map] = match &loader {
        Some(l) => &l.maps,
        None => &plain,
    };
    let load = match (&loader, &object, prog.prog_type) {
        (Some(l), Some((o, i)), Some(t)) => Some(
            l.options(o, &o.programs[*i], t)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        _ => None,
    };
    let input = RunInput {
        prog_type: prog.prog_type,
        mem: &inputs.mem,
        packet: &inputs.packet,
        ctx: &inputs.ctx,
        repeat: args.repeat,
        maps: maps.iter().collect(),
        want_log: args.log,
        mem_in_map: args.mem_in_map,
        cpu: None,
        load,
    };
    // Ring buffer records, perf event output and trace lines, read back after the run.
    let mut readback = Readback::new(prog, maps, Readback::whose(prog.prog_type, 0));
    readback.before();
    let out = match run(&prog.insns, &input) {
        Ok(out) => out,
        Err(e) if e.is_unavailable() => {
            eprintln!("kernel unavailable: {e}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(log) = e.verifier_log() {
                eprintln!("verifier log:\n{}", log.trim_end());
                if let Some(start) = ::kernel::run::program_start(&input) {
                    eprintln!(
                        "note: instructions 0 to {} of the log are bpfx's wrapper; the program starts at {start}",
                        start - 1
                    );
                }
            }
            return Ok(ExitCode::from(1));
        }
    };
    readback.after();
    let mut output = harness::Observation::default();
    readback.finish(&mut output);
    if args.log {
        eprintln!("verifier log:\n{}", out.log.trim_end());
    }
    let mut dumps = Vec::new();
    for m in maps {
        // Ring buffers and perf event arrays have no entries: their records are shown
        // apart.
        if !m.spec().map_type.readable_by_lookup() {
            dumps.push(Vec::new());
            continue;
        }
        let mut entries = m.entries()?;
        entries.sort();
        dumps.push(entries);
    }
    if args.json {
        let mut v = output_json(&out, prog.prog_type, args.repeat);
        v["maps"] = json!(dumps
            .iter()
            .map(|e| e
                .iter()
                .map(|(k, v)| json!({"key": hex(k), "value": hex(v)}))
                .collect::<Vec<_>>())
            .collect::<Vec<_>>());
        v["records"] = match &output.records {
            Some(r) => json!(r
                .iter()
                .map(|(m, recs)| (m.clone(), recs.iter().map(|r| hex(r)).collect::<Vec<_>>()))
                .collect::<std::collections::BTreeMap<_, _>>()),
            None => serde_json::Value::Null,
        };
        v["trace"] = json!(output.trace);
        v["not_read_back"] = json!(output.unobserved);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        // 32 bits: the program ran without bpfx's wrapper, either because the kernel
        // refused it or because an object's func_info covers the program alone.
        let width = match (out.r0_bits, loader.is_some()) {
            (64, _) => "",
            (_, true) => " [low 32 bits: an object's program runs without the wrapper]",
            (_, false) => " [low 32 bits: the kernel refused the wrapper]",
        };
        let meaning = prog
            .prog_type
            .and_then(|t| t.r0_meaning(out.r0))
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        println!("r0 = {:#x} ({}){meaning}{width}", out.r0, out.r0 as i64);
        println!("instructions executed: not counted by the kernel");
        let runs = if args.repeat == 1 {
            "1 run".to_string()
        } else {
            format!("{} runs", args.repeat)
        };
        match prog.prog_type {
            // bpf_prog_test_run_raw_tp/_syscall take no `repeat` and report no duration.
            Some(t @ (ProgType::RawTracepoint | ProgType::Syscall)) => {
                println!("time: not measured by the kernel for {t} programs ({runs})")
            }
            _ => println!(
                "{} ns per run, measured by the kernel ({runs})",
                out.ns_per_run
            ),
        }
        let (what, before) = if prog.prog_type.is_none() {
            ("memory", &inputs.mem)
        } else {
            ("packet", &inputs.packet)
        };
        if !out.data.is_empty() && &out.data != before {
            println!("{what} after: {}", hex_short(&out.data));
        }
        if !out.ctx.is_empty() && out.ctx != inputs.ctx {
            println!("ctx after: {}", hex_short(&out.ctx));
        }
        for (map, recs) in output.records.iter().flatten() {
            println!("records of `{map}`: {}", recs.len());
            for r in recs {
                println!("  {}", hex(r));
            }
        }
        for line in output.trace.iter().flatten() {
            println!("trace: {line}");
        }
        for (what, why) in &output.unobserved {
            println!("{what}: not read back: {why}");
        }
        for (i, entries) in dumps.iter().enumerate() {
            let shown: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}={}", hex(k), hex(v)))
                .collect();
            match prog.maps[i].spec.name.as_str() {
                "" => println!("map {i}: {}", shown.join(" ")),
                name => println!("map {i} `{name}`: {}", shown.join(" ")),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One conformance case: a name, the program, the memory and the expected r0.
#[derive(Debug, Clone)]
struct Case {
    /// Where it came from.
    pub name: String,
    /// The program.
    pub prog: Vec<Insn>,
    /// Memory for r1.
    pub mem: Vec<u8>,
    /// Expected r0.
    pub expected: u64,
}

/// Reads a JSON-lines file of assembled cases.
fn read_jsonl(path: &Path) -> Result<Vec<Case>> {
    let text = input::read_file_text(path)?;
    let mut cases = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("{}:{}", path.display(), n + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}: not JSON", at()))?;
        let field = |k: &str| -> Result<&str> {
            v[k].as_str()
                .ok_or_else(|| anyhow::anyhow!("{}: missing string field `{k}`", at()))
        };
        let name = field("file")?.to_string();
        let bytes =
            input::parse_hex(field("prog")?).map_err(|e| anyhow::anyhow!("{}: prog: {e}", at()))?;
        let prog = asm::decode(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        let mem =
            input::parse_hex(field("mem")?).map_err(|e| anyhow::anyhow!("{}: mem: {e}", at()))?;
        let result = field("result")?;
        let digits = result.strip_prefix("0x").unwrap_or(result);
        let expected = u64::from_str_radix(digits, 16)
            .with_context(|| format!("{}: result `{result}` is not a 64-bit hex number", at()))?;
        cases.push(Case {
            name,
            prog: prog.into_iter().map(|d| d.insn).collect(),
            mem,
            expected,
        });
    }
    Ok(cases)
}

/// Runs cases in the kernel and prints a summary with the expected rejections listed.
/// Exit 0 when every case passed or was an expected rejection, 1 otherwise, 77 when the
/// kernel is unavailable.
fn run_conformance(cases: &[Case], json_out: bool) -> Result<ExitCode> {
    if let Err(why) = ::kernel::probe::availability() {
        eprintln!("kernel unavailable: {why}");
        return Ok(ExitCode::from(EXIT_UNAVAILABLE));
    }
    let (mut pass, mut rejected, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for c in cases {
        match run_case(&c.prog, &c.mem, c.expected) {
            Outcome::Pass => pass.push(c.name.clone()),
            Outcome::ExpectedRejection { message, why } => {
                rejected.push((c.name.clone(), message, why))
            }
            Outcome::Mismatch { expected, got } => failed.push((
                c.name.clone(),
                format!("expected {expected:#x}, got {got:#x}"),
            )),
            Outcome::Error(e) => failed.push((c.name.clone(), e.to_string())),
        }
    }
    if json_out {
        let v = json!({
            "pass": pass.len(),
            "expected_rejections": rejected.iter().map(|(n, m, w)| json!({"case": n, "message": m, "why": w})).collect::<Vec<_>>(),
            "failures": failed.iter().map(|(n, m)| json!({"case": n, "error": m})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for (n, m) in &failed {
            println!("FAIL {n}: {m}");
        }
        for (n, m, _) in &rejected {
            println!("expected rejection {n}: {m}");
        }
        let mut whys: Vec<&str> = rejected.iter().map(|(_, _, w)| *w).collect();
        whys.dedup();
        for w in whys {
            println!("  ({w})");
        }
        println!(
            "kernel: {} pass, {} expected rejections, {} fail (of {})",
            pass.len(),
            rejected.len(),
            failed.len(),
            cases.len()
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn conformance_main(args: ConformanceArgs) -> Result<ExitCode> {
    let cases = read_jsonl(&args.cases)?;
    run_conformance(&cases, args.json)
}
