//! The one program loader of the subcommands that run programs (`kernel run`,
//! `cross-check`): assembly text, hex text, raw bytecode, or an ELF object's program chosen
//! with --section/--program; and the inputs a run gets. Invalid programs and objects are
//! [`Rejected`] (exit 1); unreadable files are I/O errors (exit 2).

use crate::exit::Rejected;
use crate::{input, render};
use anyhow::{bail, Context, Result};
use asm::text::Dialect;
use asm::types::{MapSpec, ProgType};
use asm::Insn;
use harness::convert::Object;
use harness::Program;
use std::path::{Path, PathBuf};

/// The flags `bpfx kernel run` and `bpfx cross-check` share.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Without --type the program runs the bpf_conformance way: r1 points to the memory given
with --mem/--mem-hex and r2 holds its length. With --type it runs as that program type
with --packet as the packet and --ctx as the context.

The kernel reports 32-bit return values; bpfx runs the program as a subprogram of a small
wrapper that stores r0 in a map, so all 64 bits are seen (`r0_bits` says 32 where the kernel
refuses the wrapper, e.g. ld_abs programs). The kernel does not count instructions: `insns`
is null.

Examples:
  bpfx kernel run prog.s --mem-hex '01 02 03 04'
  bpfx kernel run --type xdp --packet pkt.bin --repeat 1000 --json prog.bin")]
pub struct RunArgs {
    /// Program: assembly text, hex text, raw bytecode (`-`: standard input), or an ELF
    /// object (choose with --section or --program; its maps and global data come with it).
    pub file: PathBuf,
    /// ELF object: the program of this section (a section with several programs needs
    /// --program).
    #[arg(long, value_name = "SEC")]
    pub section: Option<String>,
    /// ELF object: the program with this function name.
    #[arg(long, value_name = "NAME")]
    pub program: Option<String>,
    /// Program type (xdp, socket_filter, sched_cls, ...); none or `plain`: memory mode.
    #[arg(long = "type", short = 't')]
    pub prog_type: Option<String>,
    /// Syntax of assembly text input (default: ubpf if it uses `%r` registers, else LLVM).
    #[arg(long, value_enum)]
    pub dialect: Option<InDialect>,
    /// File whose bytes r1 points to (memory mode).
    #[arg(long, conflicts_with = "mem_hex")]
    pub mem: Option<PathBuf>,
    /// Memory as hex text, e.g. `'01 02 0a'` (memory mode).
    #[arg(long)]
    pub mem_hex: Option<String>,
    /// File holding the packet (with --type, or an object's program).
    #[arg(long)]
    pub packet: Option<PathBuf>,
    /// File holding the context, e.g. a `struct __sk_buff` (with --type, or an object's
    /// program).
    #[arg(long)]
    pub ctx: Option<PathBuf>,
    /// Run this many times; the kernel reports the mean time per run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the verifier log of a successful load too (stderr).
    #[arg(long)]
    pub log: bool,
    /// Memory mode: give the memory to the kernel in a map value instead of as the packet
    /// (the verifier then bounds accesses by the size, not by checks against `data_end`).
    #[arg(long)]
    pub mem_in_map: bool,
    /// A map for the program, `[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]` (e.g.
    /// `array:4:8:1`); repeat for more. The program's `lddw` map references hold the index
    /// (0, 1, ...).
    #[arg(long, value_parser = input::map_spec)]
    pub map: Vec<MapSpec>,
    /// Target BTF for an object's CO-RE relocations (raw BTF or an ELF object with
    /// `.BTF`; default: /sys/kernel/btf/vmlinux).
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
}

/// Assembly syntaxes accepted as input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InDialect {
    /// LLVM syntax (`r0 = 1`).
    Llvm,
    /// ubpf / bpf_conformance syntax (`mov %r0, 1`).
    Ubpf,
}

/// Rejects an empty input.
pub fn nonempty(bytes: &[u8], name: &str) -> Result<()> {
    if bytes.is_empty() {
        return Err(Rejected(format!(
            "{name} is empty: expected assembly text, bytecode or an ELF object"
        ))
        .into());
    }
    Ok(())
}

/// Parses an ELF object; an invalid one is rejected.
pub fn object(bytes: &[u8], name: &str) -> Result<Object> {
    harness::convert::parse_object(bytes).map_err(|e| Rejected(format!("{name}: {e}")).into())
}

/// The error of a failed `harness::program::pick`: an object without programs is a rejected
/// input (exit 1); a --section/--program that matches none or several is a usage error.
pub fn pick_error(obj: &Object, msg: String) -> anyhow::Error {
    if obj.programs.is_empty() {
        Rejected(msg).into()
    } else {
        anyhow::Error::msg(msg)
    }
}

/// How to read a program file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputKind {
    /// Decide from the content (and a `.s`/`.asm` name).
    Auto,
    /// Assembly text.
    Text,
    /// Raw bytecode.
    Raw,
    /// Bytecode as hex text.
    Hex,
}

/// What a program file held.
#[derive(Debug)]
pub enum Code {
    /// Bytecode (raw or from hex text), not decoded yet.
    Bytes(Vec<u8>),
    /// Assembly text, assembled.
    Assembled {
        /// The instructions.
        insns: Vec<Insn>,
        /// The source text.
        src: String,
        /// Each instruction's span in `src`.
        spans: Vec<asm::Span>,
    },
}

/// A program file as read.
#[derive(Debug)]
pub struct Read {
    /// The input's name for messages (`<stdin>` for `-`).
    pub name: String,
    /// The dialect it was written in (LLVM for bytecode).
    pub dialect: Dialect,
    /// Its code.
    pub code: Code,
}

impl Read {
    /// The instructions (bytecode decoded as the kernel reads it, `asm::insn::decode_lenient`:
    /// what the kernel rejects anywhere is rejected; an invalid encoding it rejects only where
    /// its verifier goes is kept, for the verifier, the VM and the kernel to judge).
    pub fn insns(&self) -> Result<Vec<Insn>> {
        match &self.code {
            Code::Assembled { insns, .. } => Ok(insns.clone()),
            Code::Bytes(b) => Ok(asm::insn::decode_lenient(b)
                .map_err(|e| Rejected(format!("{}: {e}", self.name)))?
                .iter()
                .map(|d| d.insn())
                .collect()),
        }
    }
}

/// The one reader of program files (`-`: stdin) for every subcommand: assembly text (LLVM or
/// ubpf syntax), hex text, or raw bytecode, told apart by `kind` (auto: text is UTF-8
/// without control characters, bytecode nearly always holds zero bytes; a `.s`/`.asm` file
/// is text). An empty file, an ELF object (these are chosen with --section/--program by
/// the caller), bad hex and assembly errors are [`Rejected`] (assembly errors and warnings
/// are rendered to stderr, colored per `color`); an unreadable file is an I/O error.
pub fn read_program(
    file: &Path,
    kind: InputKind,
    dialect: Option<InDialect>,
    color: render::Color,
) -> Result<Read> {
    let path = (file.as_os_str() != "-").then_some(file);
    let (data, name) = input::read(path)?;
    nonempty(&data, &name)?;
    if input::is_elf(&data) {
        object(&data, &name)?;
        return Err(Rejected(format!(
            "{name} is an ELF object: give it as a file, with --section or --program"
        ))
        .into());
    }
    let is_asm = matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm" | "bpf")
    );
    let kind = match kind {
        InputKind::Auto if is_asm => InputKind::Text,
        InputKind::Auto if !input::is_text(&data) => InputKind::Raw,
        InputKind::Auto if input::looks_like_hex(&data) => InputKind::Hex,
        InputKind::Auto => InputKind::Text,
        k => k,
    };
    let bytes = match kind {
        InputKind::Raw => data,
        InputKind::Hex => std::str::from_utf8(&data)
            .map_err(|e| e.to_string())
            .and_then(input::parse_hex)
            .map_err(|e| Rejected(format!("{name}: not hex text: {e}")))?,
        _ => {
            let src = String::from_utf8(data)
                .map_err(|_| Rejected(format!("{name} is not UTF-8 text")))?;
            let d = match dialect {
                Some(InDialect::Llvm) => Dialect::Llvm,
                Some(InDialect::Ubpf) => Dialect::Ubpf,
                None if src.contains("%r") => Dialect::Ubpf,
                None => Dialect::Llvm,
            };
            return match asm::text::assemble(&src, d) {
                Ok(a) => {
                    if !a.warnings.is_empty() {
                        render::emit(color, &name, &src, &a.warnings);
                    }
                    Ok(Read {
                        name,
                        dialect: d,
                        code: Code::Assembled {
                            insns: a.insns,
                            src,
                            spans: a.spans,
                        },
                    })
                }
                Err(diags) => {
                    render::emit(color, &name, &src, &diags);
                    Err(Rejected(String::new()).into())
                }
            };
        }
    };
    Ok(Read {
        name,
        dialect: Dialect::Llvm,
        code: Code::Bytes(bytes),
    })
}

/// A program to run.
#[derive(Debug)]
pub struct Loaded {
    /// The program, its maps and globals.
    pub program: Program,
    /// For an ELF object: the object and the program's index in it, so the kernel side
    /// loads it as libbpf does ([`::kernel::object::Loader`]).
    pub object: Option<(harness::convert::Object, usize)>,
}

/// Loads FILE: an ELF object's chosen program with the object's maps, or a text or
/// bytecode program with the --map maps.
pub fn load_run_program(args: &RunArgs) -> Result<Loaded> {
    let name = args.file.display().to_string();
    let bytes = if args.file.as_os_str() == "-" {
        None
    } else {
        input::read_file(&args.file).ok()
    };
    let Some(bytes) = bytes.filter(|b| input::is_elf(b)) else {
        if args.section.is_some() || args.program.is_some() {
            bail!("--section and --program choose a program of an ELF object; {name} is not one");
        }
        return Ok(Loaded {
            program: Program {
                insns: read_program(
                    &args.file,
                    InputKind::Auto,
                    args.dialect,
                    render::Color::Auto,
                )?
                .insns()?,
                prog_type: None,
                maps: args.map.iter().cloned().map(obj::Map::from).collect(),
                globals: Vec::new(),
            },
            object: None,
        });
    };
    let mut obj = object(&bytes, &name)?;
    crate::core_relocs::apply(&mut obj, args.btf.as_deref(), &name)?;
    if !args.map.is_empty() {
        bail!("--map is for assembly and bytecode: {name} declares its own maps");
    }
    // An object's program runs as its section's type unless --type names another.
    let given = match args.prog_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("plain") => {
            bail!("an object's program runs with a kernel type, not `plain`")
        }
        Some(t) => Some(
            t.parse::<ProgType>()
                .map_err(|e| anyhow::anyhow!("--type: {e}"))?,
        ),
        None => None,
    };
    let index = harness::program::pick_index(
        &obj,
        &name,
        args.section.as_deref(),
        args.program.as_deref(),
    )
    .ok();
    if let Some(p) = index.map(|i| &obj.programs[i]) {
        p.loadable().map_err(|e| Rejected(format!("{name}: {e}")))?;
    }
    let program = harness::program::pick(
        &obj,
        &name,
        args.section.as_deref(),
        args.program.as_deref(),
        given,
    )
    .map_err(|e| pick_error(&obj, e))?;
    if let Some(m) = program.maps.iter().find(|m| !m.slots.is_empty()) {
        bail!(
            "{name}: map `{}` is a program array initialised with programs (`.values`), which the kernel backend does not load",
            m.spec.name
        );
    }
    Ok(Loaded {
        program,
        object: index.map(|i| (obj, i)),
    })
}

/// The most input bytes read from a --mem/--packet/--ctx file: far above what the kernel
/// takes (a page) and what the VM regions need, and it stops `/dev/zero` from filling memory.
pub const MAX_INPUT: u64 = 1 << 20;

fn read_limited(p: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", p.display()))?;
    if buf.len() as u64 > MAX_INPUT {
        bail!("{} is larger than {} bytes", p.display(), MAX_INPUT);
    }
    Ok(buf)
}

/// Reads the run inputs the flags name and sets the program's type: --type, or an
/// object's section type, or none (memory mode).
pub fn read_inputs(args: &RunArgs, program: &mut Program) -> Result<harness::single::Inputs> {
    let read = |p: &Option<PathBuf>| -> Result<Vec<u8>> {
        match p {
            Some(p) => read_limited(p),
            None => Ok(Vec::new()),
        }
    };
    let mem = match &args.mem_hex {
        Some(h) => input::parse_hex(h).map_err(|e| anyhow::anyhow!("--mem-hex: {e}"))?,
        None => read(&args.mem)?,
    };
    match &args.prog_type {
        // `bpfx run`'s name for memory mode.
        Some(t) if t.eq_ignore_ascii_case("plain") => program.prog_type = None,
        Some(t) => {
            program.prog_type = Some(
                t.parse::<ProgType>()
                    .map_err(|e| anyhow::anyhow!("--type: {e}"))?,
            )
        }
        None => {}
    }
    if args.prog_type.is_some() && program.prog_type.is_some() && !mem.is_empty() {
        bail!("--mem/--mem-hex is for memory mode (no --type); with --type give --packet or --ctx");
    }
    if program.prog_type.is_none() && (args.packet.is_some() || args.ctx.is_some()) {
        bail!("--packet and --ctx need --type (without it the program runs in memory mode: give --mem)");
    }
    Ok(harness::single::Inputs {
        mem,
        packet: read(&args.packet)?,
        ctx: read(&args.ctx)?,
    })
}
