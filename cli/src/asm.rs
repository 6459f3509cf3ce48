//! `bpfx asm`: text → bytecode.

use crate::{input, render};
use anyhow::{bail, Context, Result};
use asm::text::{self, Assembled, Dialect};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Assemble eBPF text into bytecode.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  bpfx asm prog.s -o prog.bin
  bpfx asm --dialect ubpf --format hex test.asm
  echo 'r0 = 42
exit' | bpfx asm --format c")]
pub struct Args {
    /// Source file (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// Where to write the output (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Source syntax.
    #[arg(long, value_enum, default_value_t = SourceDialect::Llvm)]
    pub dialect: SourceDialect,
    /// Output format (default: raw, or hex when writing to a terminal).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Syntaxes `bpfx asm` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceDialect {
    /// LLVM syntax (`r0 = *(u32 *)(r1 + 4)`); also accepts verifier-log spellings.
    Llvm,
    /// ubpf / bpf_conformance syntax (`ldxw %r0, [%r1+4]`).
    Ubpf,
    /// Classic BPF in the kernel's tools/bpf/bpf_asm syntax (`ldh [12]`); also `bpfx cbpf asm`.
    #[value(name = "bpf_asm", alias = "bpf-asm")]
    BpfAsm,
    /// Classic BPF in the readable seccomp form (`if (A == openat) goto deny`).
    Seccomp,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The bytecode itself (8-byte little-endian slots).
    Raw,
    /// One instruction per line as hex bytes (reads back with `bpfx disasm --input hex`).
    Hex,
    /// A C array of `struct bpf_insn`.
    C,
    /// A Rust byte array.
    Rust,
    /// A JSON object with every instruction's fields, bytes and text.
    Json,
    /// `N,code jt jf k,...` for xt_bpf and tc (classic BPF only).
    Bpfasm,
}

pub fn main(args: Args, color: render::Color) -> Result<ExitCode> {
    let dialect = match args.dialect {
        SourceDialect::Llvm => Dialect::Llvm,
        SourceDialect::Ubpf => Dialect::Ubpf,
        SourceDialect::BpfAsm => return classic(args, crate::classic::CDialect::BpfAsm, color),
        SourceDialect::Seccomp => return classic(args, crate::classic::CDialect::Seccomp, color),
    };
    if args.format == Some(Format::Bpfasm) {
        bail!("--format bpfasm is for classic BPF: use it with --dialect bpf_asm or seccomp");
    }
    let (src, name) = input::read_text(args.file.as_deref())?;
    let assembled = match text::assemble(&src, dialect) {
        Ok(a) => a,
        Err(diags) => {
            render::emit(color, &name, &src, &diags);
            return Ok(ExitCode::from(1));
        }
    };
    if !assembled.warnings.is_empty() {
        render::emit(color, &name, &src, &assembled.warnings);
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = match args.format {
        Some(Format::Raw) if to_terminal => {
            bail!("refusing to write raw bytecode to a terminal; use -o FILE, a pipe, or --format hex")
        }
        Some(f) => f,
        None if to_terminal => Format::Hex,
        None => Format::Raw,
    };
    let out = render_output(&assembled, format);
    match &args.output {
        Some(path) => std::fs::write(path, &out)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .write_all(&out)
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Classic BPF (`struct sock_filter[]`) through the same command line.
fn classic(
    args: Args,
    dialect: crate::classic::CDialect,
    color: render::Color,
) -> Result<ExitCode> {
    use crate::classic::OutFormat;
    crate::classic::set_color(color);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = match args.format {
        Some(Format::Raw) if to_terminal => {
            bail!(
                "refusing to write raw bytecode to a terminal; use -o FILE, a pipe, or --format c"
            )
        }
        Some(Format::Raw) => OutFormat::Raw,
        None if to_terminal => OutFormat::C,
        None => OutFormat::Raw,
        Some(Format::Hex | Format::C) => OutFormat::C,
        Some(Format::Rust) => OutFormat::Rust,
        Some(Format::Json) => OutFormat::Json,
        Some(Format::Bpfasm) => OutFormat::Bpfasm,
    };
    let path = args.file.unwrap_or_else(|| PathBuf::from("-"));
    crate::classic::exit_code((|| {
        let prog = crate::classic::load_filter(&path, Some(dialect))?;
        let arch = asm::cbpf::seccomp::Arch::X86_64;
        crate::classic::write_out(&prog, format, arch, args.output.as_deref())?;
        Ok(ExitCode::SUCCESS)
    })())
}

/// The output bytes for a format.
pub fn render_output(a: &Assembled, format: Format) -> Vec<u8> {
    match format {
        Format::Raw => a.bytes(),
        Format::Hex => hex(a).into_bytes(),
        Format::C => c_array(a).into_bytes(),
        Format::Rust => rust_array(a).into_bytes(),
        Format::Json => json(a).into_bytes(),
        // Rejected before assembling: classic BPF only.
        Format::Bpfasm => Vec::new(),
    }
}

fn hex_bytes(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn hex(a: &Assembled) -> String {
    let mut s = String::new();
    for insn in &a.insns {
        s.push_str(&hex_bytes(&insn.encode(), " "));
        s.push('\n');
    }
    s
}

fn c_array(a: &Assembled) -> String {
    let mut s =
        String::from("/* #include <linux/bpf.h> */\nstatic const struct bpf_insn prog[] = {\n");
    for insn in &a.insns {
        let text = text::print_insn(insn, Dialect::Llvm);
        let bytes = insn.encode();
        for (i, slot) in bytes.chunks(8).enumerate() {
            let off = i16::from_le_bytes([slot[2], slot[3]]);
            let imm = i32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]);
            let _ = write!(
                s,
                "\t{{ .code = 0x{:02x}, .dst_reg = {}, .src_reg = {}, .off = {off}, .imm = {imm} }},",
                slot[0],
                slot[1] & 0xf,
                slot[1] >> 4
            );
            if i == 0 {
                let _ = write!(s, " /* {} */", text.replace("*/", "* /"));
            }
            s.push('\n');
        }
    }
    s.push_str("};\n");
    s
}

fn rust_array(a: &Assembled) -> String {
    let bytes = a.bytes();
    let mut s = format!("pub const PROG: [u8; {}] = [\n", bytes.len());
    for insn in &a.insns {
        let b = insn.encode();
        let list = b
            .iter()
            .map(|b| format!("0x{b:02x}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "    {list}, // {}",
            text::print_insn(insn, Dialect::Llvm)
        );
    }
    s.push_str("];\n");
    s
}

fn json(a: &Assembled) -> String {
    let mut pc = 0;
    let insns: Vec<_> = a
        .insns
        .iter()
        .map(|insn| {
            let v = serde_json::json!({
                "pc": pc,
                "code": format!("0x{:02x}", insn.code),
                "name": insn.def().map(|d| d.name),
                "dst": insn.dst,
                "src": insn.src,
                "off": insn.off,
                "imm": insn.imm,
                "bytes": hex_bytes(&insn.encode(), ""),
                "text": text::print_insn(insn, Dialect::Llvm),
            });
            pc += insn.slots();
            v
        })
        .collect();
    let doc =
        serde_json::json!({ "slots": pc, "bytes": hex_bytes(&a.bytes(), ""), "insns": insns });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
