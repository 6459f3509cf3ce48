//! `bpfx verify`: the kernel verifier's verdict, without root.

use crate::{input, render};
use anyhow::{bail, Context, Result};
use asm::diag::Diagnostic;
use asm::text::{self, Dialect};
use asm::types::{MapType, ProgType};
use asm::Span;
use std::path::PathBuf;
use std::process::ExitCode;
use verifier::{MapDef, Options, RejectKind, Rejection};

const EXAMPLES: &str = "\
Examples:
  bpfx verify prog.s                                  socket filter, privileged
  bpfx verify --type xdp --map counts:array:4:8:1 xdp.s
  bpfx verify --log-level 2 prog.bin                  the kernel-style log
  bpfx verify --json prog.s                           the verdict as JSON

Maps are referred to by index in --map order: `r1 = map_fd(0) ll` is the first.";

/// Verify a program as the Linux 6.18 verifier would (privileged by default).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The program: assembly text (LLVM or ubpf syntax), raw bytecode, or `-` for stdin.
    pub file: PathBuf,
    /// Program type (kernel name: socket_filter, xdp, sched_cls, kprobe, ...).
    #[arg(long = "type", value_name = "TYPE", default_value = "socket_filter")]
    pub prog_type: ProgType,
    /// A map: NAME:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES (repeatable; index = order).
    #[arg(long = "map", value_name = "SPEC", value_parser = parse_map)]
    pub maps: Vec<MapDef>,
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
    #[arg(long, conflicts_with = "program")]
    pub section: Option<String>,
    /// For an ELF object: the program to verify, by function name.
    #[arg(long)]
    pub program: Option<String>,
}

fn parse_map(s: &str) -> Result<MapDef, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 5 {
        return Err(format!(
            "`{s}`: expected NAME:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES (5 fields, got {})",
            parts.len()
        ));
    }
    let t: MapType = parts[1].parse()?;
    let num = |i: usize, what: &str| {
        parts[i].parse::<u32>().map_err(|_| {
            format!(
                "`{s}`: {what} `{}` is not a number in 0..=4294967295",
                parts[i]
            )
        })
    };
    Ok(MapDef::new(
        parts[0],
        t,
        num(2, "KEY_SIZE")?,
        num(3, "VALUE_SIZE")?,
        num(4, "MAX_ENTRIES")?,
    ))
}

/// What was read: bytes plus, for text, the source and each slot's span.
struct Program {
    bytes: Vec<u8>,
    name: String,
    source: Option<(String, Vec<Option<Span>>)>,
}

fn read(args: &Args, color: render::Color) -> Result<Option<Program>> {
    let path = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    let (bytes, name) = input::read(path)?;
    if bytes.is_empty() {
        bail!("{name} is empty: expected assembly text or bytecode");
    }
    if crate::object::is_elf(&bytes) {
        bail!(
            "{name} is an ELF object: verify it through `bpfx verify` with --section or --program"
        );
    }
    if !crate::run::is_text(&bytes) {
        return Ok(Some(Program {
            bytes,
            name,
            source: None,
        }));
    }
    let src = String::from_utf8(bytes).context("not UTF-8")?;
    if input::looks_like_hex(src.as_bytes()) {
        let bytes = input::parse_hex(&src).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        return Ok(Some(Program {
            bytes,
            name,
            source: None,
        }));
    }
    let dialect = if src.contains("%r") {
        Dialect::Ubpf
    } else {
        Dialect::Llvm
    };
    match text::assemble(&src, dialect) {
        Ok(a) => {
            if !a.warnings.is_empty() {
                render::emit(color, &name, &src, &a.warnings);
            }
            // One span per slot; the second slot of lddw has none.
            let mut spans = Vec::new();
            for (insn, span) in a.insns.iter().zip(&a.spans) {
                spans.push(Some(*span));
                if insn.slots() == 2 {
                    spans.push(None);
                }
            }
            Ok(Some(Program {
                bytes: a.bytes(),
                name,
                source: Some((src, spans)),
            }))
        }
        Err(diags) => {
            render::emit(color, &name, &src, &diags);
            Ok(None)
        }
    }
}

/// Verifies a program about to run (`bpfx run` without `--no-verify`) and reports a
/// rejection the way `bpfx verify` does, with the source line when there is one. Returns
/// whether the program may run: a kernel rejection stops it; a program bpfx cannot decide
/// (BTF, kfuncs) runs with a warning.
pub fn gate(
    insns: &[asm::Insn],
    name: &str,
    source: Option<(&str, &[Span])>,
    opts: &Options,
    color: render::Color,
) -> bool {
    let mut spans = Vec::new();
    if let Some((_, per_insn)) = source {
        for (insn, span) in insns.iter().zip(per_insn) {
            spans.push(Some(*span));
            if insn.slots() == 2 {
                spans.push(None);
            }
        }
    }
    let prog = Program {
        bytes: asm::encode(insns),
        name: name.to_string(),
        source: source.map(|(src, _)| (src.to_string(), spans)),
    };
    match verifier::verify_bytes(&prog.bytes, opts) {
        Ok(_) => true,
        Err(r) if r.kind == RejectKind::Unsupported => {
            eprintln!(
                "warning: {name}: bpfx cannot verify this program ({}); running it anyway",
                r.message
            );
            true
        }
        Err(r) => {
            report(&prog, &r, color);
            eprintln!(
                "note: the kernel would refuse to load it; `bpfx run --no-verify` runs it anyway"
            );
            false
        }
    }
}

/// Picks a program of a clang-built object and the verifier's view of its maps.
fn from_object(args: &Args, bytes: &[u8], name: &str) -> Result<(Program, ProgType, Vec<MapDef>)> {
    let obj = obj::Object::parse(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let listing = || {
        obj.programs
            .iter()
            .map(|p| format!("{} (section {})", p.name, p.section))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if obj.programs.is_empty() {
        bail!("{name} has no program sections (only `.text` functions or data)");
    }
    let matching: Vec<_> = obj
        .programs
        .iter()
        .filter(|p| match (&args.section, &args.program) {
            (Some(s), _) => &p.section == s,
            (_, Some(n)) => &p.name == n,
            (None, None) => true,
        })
        .collect();
    let p = match matching.as_slice() {
        [one] => *one,
        [] => bail!("{name} has no such program; it has: {}", listing()),
        many => bail!(
            "{name} has {} programs{}: choose one with --program ({})",
            many.len(),
            args.section
                .as_ref()
                .map(|s| format!(" in section {s}"))
                .unwrap_or_default(),
            listing()
        ),
    };
    let maps = obj
        .maps
        .iter()
        .map(|m| {
            let mut d = MapDef::new(
                &m.spec.name,
                m.spec.map_type,
                m.spec.key_size,
                m.spec.value_size,
                m.spec.max_entries,
            );
            d.flags = m.spec.flags;
            d
        })
        .collect();
    let prog = Program {
        bytes: asm::encode(&p.insns),
        name: format!("{name}:{}", p.name),
        source: None,
    };
    Ok((prog, p.prog_type, maps))
}

pub fn main(args: Args, color: render::Color) -> Result<ExitCode> {
    let path = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    let (prog, prog_type, maps) = match std::fs::read(args.file.as_path())
        .ok()
        .filter(|b| path.is_some() && crate::object::is_elf(b))
    {
        Some(bytes) => {
            let (prog, t, maps) = from_object(&args, &bytes, &args.file.display().to_string())?;
            (prog, t, maps)
        }
        None => {
            let Some(prog) = read(&args, color)? else {
                return Ok(ExitCode::from(1));
            };
            (prog, args.prog_type, args.maps.clone())
        }
    };
    let mut opts = Options::new(prog_type);
    opts.maps = maps;
    opts.expected_attach_type = args.attach_type;
    opts.privileged = !args.unprivileged;
    opts.log_level = args.log_level;
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

fn source_line(prog: &Program, insn: usize) -> Option<String> {
    let (src, spans) = prog.source.as_ref()?;
    let span = (*spans.get(insn)?)?;
    let start = src[..span.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = src[span.start..]
        .find('\n')
        .map(|i| span.start + i)
        .unwrap_or(src.len());
    Some(src[start..end].trim_end().to_string())
}

fn path_note(r: &Rejection) -> String {
    if r.path.is_empty() {
        return "path: straight from the entry (no branch decisions)".to_string();
    }
    let steps: Vec<String> = r
        .path
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b.insn,
                if b.taken { "taken" } else { "fallthrough" }
            )
        })
        .collect();
    format!("path: {}", steps.join(", "))
}

fn report(prog: &Program, r: &Rejection, color: render::Color) {
    let what = match r.kind {
        RejectKind::Kernel => "the kernel rejects this program",
        RejectKind::Unsupported => "bpfx cannot decide (not modelled)",
    };
    let mut notes = vec![path_note(r), format!("errno {}", r.errno)];
    if let Some(p) = r.processed {
        notes.push(format!("{p} instructions processed"));
    }
    let span = prog
        .source
        .as_ref()
        .and_then(|(_, spans)| spans.get(r.insn).copied().flatten());
    match (&prog.source, span) {
        (Some((src, _)), Some(span)) => {
            let mut d = Diagnostic::error(span, format!("{what}: {}", r.message));
            d.notes = notes;
            d.notes.insert(0, format!("at instruction {}", r.insn));
            render::emit(color, &prog.name, src, &[d]);
        }
        _ => {
            eprintln!("error: {what}: {}", r.message);
            let insn = prog.bytes.get(r.insn * 8..r.insn * 8 + 8).map(|s| {
                let mut i = asm::Insn {
                    code: s[0],
                    dst: s[1] & 15,
                    src: s[1] >> 4,
                    off: i16::from_le_bytes([s[2], s[3]]),
                    imm: i32::from_le_bytes([s[4], s[5], s[6], s[7]]) as i64,
                };
                if i.code == 0x18 {
                    if let Some(h) = prog.bytes.get(r.insn * 8 + 12..r.insn * 8 + 16) {
                        let hi = i32::from_le_bytes([h[0], h[1], h[2], h[3]]) as i64;
                        i.imm = (i.imm as u32 as i64) | (hi << 32);
                    }
                }
                asm::text::kernel::print(&i)
            });
            eprintln!(
                "  --> {}: instruction {}{}",
                prog.name,
                r.insn,
                insn.map(|t| format!(": {t}")).unwrap_or_default()
            );
            for n in notes {
                eprintln!("  = note: {n}");
            }
        }
    }
}
