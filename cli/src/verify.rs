//! `bpfx verify`: the kernel verifier's verdict, without root.

use crate::verdict::{report, source_line, Program};
use crate::{input, render};
use anyhow::Result;
use asm::types::ProgType;
use std::path::PathBuf;
use std::process::ExitCode;
use verifier::{MapSpec, Options};

const EXAMPLES: &str = "\
Examples:
  bpfx verify prog.s                                  socket filter, privileged
  bpfx verify --type xdp --map counts=array:4:8:1 xdp.s
  bpfx verify prog.bpf.o                              every program of a clang-built object
  bpfx verify --section xdp prog.bpf.o                the object's program in section xdp
  bpfx verify --section .text --type xdp lib.bpf.o    a section that names no type
  bpfx verify --program count_proto prog.bpf.o        ... or by function name
  bpfx verify --log-level 2 prog.bin                  the kernel-style log
  bpfx verify --json prog.s                           the verdict as JSON

Maps are referred to by index in --map order: `r1 = map_fd(0) ll` is the first. An ELF
object brings its own maps and program types (from the section names, as libbpf reads
them). An object with several programs and no --section/--program has each verified: a
table (or with --json a list) of program, section, type, verdict, instructions processed
and the first message; the exit status is 1 if any is rejected.";

/// Verify a program as the Linux 6.18 verifier would (privileged by default).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The program: assembly text (LLVM or ubpf syntax), raw bytecode, hex, `-` for stdin,
    /// or a clang-built ELF object (`.bpf.o`; choose its program with --section or
    /// --program when it has several).
    pub file: PathBuf,
    /// Program type (kernel name: socket_filter, xdp, sched_cls, kprobe, ...; default
    /// socket_filter). An ELF object's program has the type its section names; --type
    /// overrides it, and is needed where the section names none (`xdp1`, `.text` ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub prog_type: Option<ProgType>,
    /// Target BTF for an object's CO-RE relocations (raw BTF or an ELF object with
    /// `.BTF`; default: /sys/kernel/btf/vmlinux).
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
    /// Kernel configuration for an object's `__kconfig` externs (`CONFIG_*=` lines as in
    /// /proc/config.gz, plus LINUX_KERNEL_VERSION=, LINUX_HAS_BPF_COOKIE=,
    /// LINUX_HAS_SYSCALL_WRAPPER=). Without it such programs are refused by name.
    #[arg(long, value_name = "FILE")]
    pub kconfig: Option<PathBuf>,
    /// A map: [NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS] (repeatable; index =
    /// order; `map_fd(0)` is the first). The old NAME:TYPE:... spelling is still read, with a
    /// note. An ELF object declares its own maps.
    #[arg(long = "map", value_name = "SPEC", value_parser = input::map_spec)]
    pub maps: Vec<asm::types::MapSpec>,
    /// `expected_attach_type` number (for cgroup programs' return ranges).
    #[arg(long, value_name = "N")]
    pub attach_type: Option<u32>,
    /// Verify as an unprivileged user (no pointer leaks, no loops).
    #[arg(long)]
    pub unprivileged: bool,
    /// 0: verdict only; 1: the log up to the error; 2: every instruction with its state.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=2))]
    pub log_level: u32,
    /// Print the verdict as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// For an ELF object: the program to verify, by section name (`xdp`, `kprobe/...`).
    #[arg(long)]
    pub section: Option<String>,
    /// For an ELF object: the program to verify, by function name.
    #[arg(long)]
    pub program: Option<String>,
}

fn read(args: &Args, color: render::Color) -> Result<Program> {
    let r = crate::load::read_program(&args.file, crate::load::InputKind::Auto, None, color)?;
    Ok(match r.code {
        crate::load::Code::Bytes(bytes) => Program {
            bytes,
            name: r.name,
            source: None,
            object: None,
        },
        crate::load::Code::Assembled { insns, src, spans } => {
            // One span per slot; the second slot of lddw has none.
            let mut slots = Vec::new();
            for (insn, span) in insns.iter().zip(&spans) {
                slots.push(Some(*span));
                if insn.slots() == 2 {
                    slots.push(None);
                }
            }
            Program {
                bytes: asm::encode(&insns),
                name: r.name,
                source: Some((src, slots)),
                object: None,
            }
        }
    })
}

/// Picks a program of a clang-built object: it, its type (--type or its section's), its
/// expected attach type, the verifier's view of the object's maps and whether it has BTF
/// func_info (which callbacks need).
type Picked = (Program, ProgType, Option<u32>, Vec<MapSpec>, bool);

fn from_object(args: &Args, obj: &obj::Object, name: &str) -> Result<Picked> {
    let i =
        harness::program::pick_index(obj, name, args.section.as_deref(), args.program.as_deref())
            .map_err(|e| crate::load::pick_error(obj, e))?;
    let p = &obj.programs[i];
    p.loadable()
        .map_err(|e| crate::exit::Rejected(format!("{name}: {e}")))?;
    let prog_type = p
        .type_or(args.prog_type)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let maps = obj.maps.iter().map(|m| m.spec.clone()).collect();
    let prog = Program {
        bytes: asm::encode(&p.insns),
        name: format!("{name}:{}", p.name),
        source: None,
        object: Some(p.clone()),
    };
    let attach = p.expected_attach_type.map(|a| a.number());
    let func_info = !p.ext.func_info.is_empty();
    Ok((prog, prog_type, attach, maps, func_info))
}

/// One program's line of `bpfx verify OBJ`.
#[derive(serde::Serialize)]
struct Row {
    program: String,
    section: String,
    #[serde(rename = "type")]
    prog_type: Option<String>,
    /// `accept`; `reject` (by the verifier, or a call to an undefined function, which
    /// libbpf refuses too); `unresolved` (it uses an extern, which bpfx does not resolve
    /// yet); `untyped` (the section names no type and no --type was given).
    verdict: &'static str,
    processed: Option<u64>,
    message: Option<String>,
}

/// Verifies every program of an object (no --section/--program); exit 1 if any is
/// rejected.
fn verify_all(args: &Args, obj: &obj::Object, name: &str) -> Result<ExitCode> {
    let maps: Vec<MapSpec> = obj.maps.iter().map(|m| m.spec.clone()).collect();
    let mut rows = Vec::new();
    for p in &obj.programs {
        // --type gives the type of the programs whose section names none.
        let prog_type = p.prog_type.or(args.prog_type);
        let mut row = Row {
            program: p.name.clone(),
            section: p.section.clone(),
            prog_type: prog_type.map(|t| t.name().to_string()),
            verdict: "reject",
            processed: None,
            message: None,
        };
        match (p.loadable(), prog_type) {
            (Err(e), _) => {
                if p.undefined_calls.is_empty() {
                    row.verdict = "unresolved";
                }
                row.message = Some(e);
            }
            (Ok(()), None) => {
                row.verdict = "untyped";
                row.message = p.type_or(None).err();
            }
            (Ok(()), Some(t)) => {
                let mut opts = Options::new(t);
                opts.maps = maps.clone();
                opts.btf_func_info = !p.ext.func_info.is_empty();
                opts.expected_attach_type = args
                    .attach_type
                    .or(p.expected_attach_type.map(|a| a.number()));
                opts.privileged = !args.unprivileged;
                // The object's `license` section; libbpf loads "" without one.
                opts.license = obj.license.clone().unwrap_or_default();
                opts.sleepable = p.sleepable;
                match verifier::verify(&p.insns, &opts) {
                    Ok(a) => {
                        row.verdict = "accept";
                        row.processed = Some(a.processed);
                    }
                    Err(r) => {
                        row.processed = r.processed;
                        let at = crate::verdict::object_line(Some(p), r.insn)
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default();
                        row.message = Some(format!("insn {}{at}: {}", r.insn, r.message));
                    }
                }
            }
        }
        rows.push(row);
    }
    let rejected = rows.iter().filter(|r| r.verdict == "reject").count();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "object": name,
                "programs": rows,
                "rejected": rejected,
            }))?
        );
    } else {
        let header = ["program", "section", "type", "verdict", "insns", "message"];
        let cells: Vec<[String; 6]> = rows
            .iter()
            .map(|r| {
                [
                    r.program.clone(),
                    r.section.clone(),
                    r.prog_type.clone().unwrap_or_else(|| "?".into()),
                    r.verdict.to_string(),
                    r.processed.map_or_else(|| "-".into(), |n| n.to_string()),
                    r.message.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let mut width = header.map(str::len);
        for c in &cells {
            for (w, cell) in width.iter_mut().zip(c) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |c: &[&str]| {
            let mut out = String::new();
            for (i, (cell, w)) in c.iter().zip(width).enumerate() {
                if i + 1 == c.len() {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<w$}  "));
                }
            }
            println!("{}", out.trim_end());
        };
        line(&header);
        for c in &cells {
            line(&c.iter().map(String::as_str).collect::<Vec<_>>());
        }
        println!(
            "{} programs: {} accepted, {rejected} rejected, {} with unresolved externs, {} without a type",
            rows.len(),
            rows.iter().filter(|r| r.verdict == "accept").count(),
            rows.iter().filter(|r| r.verdict == "unresolved").count(),
            rows.iter().filter(|r| r.verdict == "untyped").count()
        );
    }
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn main(args: Args, color: render::Color) -> Result<ExitCode> {
    let path = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    let mut license = None;
    let (prog, prog_type, attach, maps, func_info) = match input::read_file(args.file.as_path())
        .ok()
        .filter(|b| path.is_some() && input::is_elf(b))
    {
        Some(bytes) => {
            let name = args.file.display().to_string();
            let mut obj = crate::load::object(&bytes, &name)?;
            crate::core_relocs::apply(&mut obj, args.btf.as_deref(), &name)?;
            crate::kconfig::apply(&mut obj, args.kconfig.as_deref(), &name)?;
            if args.section.is_none() && args.program.is_none() && obj.programs.len() > 1 {
                return verify_all(&args, &obj, &name);
            }
            // The object's `license` section; libbpf loads "" without one.
            license = Some(obj.license.clone().unwrap_or_default());
            from_object(&args, &obj, &name)?
        }
        None => {
            let prog = read(&args, color)?;
            let maps = args.maps.clone();
            let t = args.prog_type.unwrap_or(ProgType::SocketFilter);
            (prog, t, None, maps, false)
        }
    };
    let mut opts = Options::new(prog_type);
    opts.maps = maps;
    opts.expected_attach_type = args.attach_type.or(attach);
    opts.privileged = !args.unprivileged;
    opts.log_level = args.log_level;
    if let Some(l) = license {
        opts.license = l;
    }
    opts.btf_func_info = func_info;
    let res = verifier::verify_bytes(&prog.bytes, &opts);
    if args.json {
        let v = match &res {
            Ok(a) => serde_json::json!({"verdict": "accept", "stats": a}),
            Err(r) => {
                let mut v = serde_json::json!({"verdict": "reject", "rejection": r});
                if let Some(l) = source_line(&prog, r.insn) {
                    v["source_line"] = serde_json::json!(l);
                }
                v
            }
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if res.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    match res {
        Ok(a) => {
            print!("{}", a.log);
            println!(
                "accepted: {} insns processed, stack depth {} bytes",
                a.processed, a.max_stack_depth
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(r) => {
            eprint!("{}", r.log);
            report(&prog, &r, color);
            Ok(ExitCode::from(1))
        }
    }
}
