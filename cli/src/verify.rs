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
  bpfx verify prog.bpf.o                              a clang-built object's only program
  bpfx verify --section xdp prog.bpf.o                the object's program in section xdp
  bpfx verify --program count_proto prog.bpf.o        ... or by function name
  bpfx verify --log-level 2 prog.bin                  the kernel-style log
  bpfx verify --json prog.s                           the verdict as JSON

Maps are referred to by index in --map order: `r1 = map_fd(0) ll` is the first. An ELF
object brings its own maps and program type (from the section name).";

/// Verify a program as the Linux 6.18 verifier would (privileged by default).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The program: assembly text (LLVM or ubpf syntax), raw bytecode, hex, `-` for stdin,
    /// or a clang-built ELF object (`.bpf.o`; choose its program with --section or
    /// --program when it has several).
    pub file: PathBuf,
    /// Program type (kernel name: socket_filter, xdp, sched_cls, kprobe, ...). An ELF
    /// object's program has the type its section names.
    #[arg(long = "type", value_name = "TYPE", default_value = "socket_filter")]
    pub prog_type: ProgType,
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
            }
        }
    })
}

/// Picks a program of a clang-built object and the verifier's view of its maps.
fn from_object(args: &Args, bytes: &[u8], name: &str) -> Result<(Program, ProgType, Vec<MapSpec>)> {
    let obj = crate::load::object(bytes, name)?;
    let i =
        harness::program::pick_index(&obj, name, args.section.as_deref(), args.program.as_deref())
            .map_err(|e| crate::load::pick_error(&obj, e))?;
    let p = &obj.programs[i];
    let maps = obj.maps.iter().map(|m| m.spec.clone()).collect();
    let prog = Program {
        bytes: asm::encode(&p.insns),
        name: format!("{name}:{}", p.name),
        source: None,
    };
    Ok((prog, p.prog_type, maps))
}

pub fn main(args: Args, color: render::Color) -> Result<ExitCode> {
    let path = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    let (prog, prog_type, maps) = match input::read_file(args.file.as_path())
        .ok()
        .filter(|b| path.is_some() && input::is_elf(b))
    {
        Some(bytes) => {
            let (prog, t, maps) = from_object(&args, &bytes, &args.file.display().to_string())?;
            (prog, t, maps)
        }
        None => {
            let prog = read(&args, color)?;
            let maps = args.maps.clone();
            (prog, args.prog_type, maps)
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
