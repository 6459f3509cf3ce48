//! Classic BPF in and out, shared by the subcommands that read or write classic filters
//! (`asm` and `disasm` with `--dialect bpf_asm|seccomp`, `cbpf`, `seccomp`):
//! [`load_filter`] reads a program in any form (raw `struct sock_filter[]`, C array,
//! `N,code jt jf k,...`, bpf_asm or seccomp text), [`write_out`] writes one (never raw bytes
//! to a terminal), [`render`] prints diagnostics, [`exit_code`] maps an already reported
//! rejection to exit status 1.

use anyhow::{bail, Context};
use asm::cbpf::check::{check, Mode};
use asm::cbpf::formats::{self, Format, TextKind};
use asm::cbpf::seccomp::Arch;
use asm::cbpf::{self, bpf_asm, seccomp, SockFilter};
use asm::diag::Diagnostic;
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Text dialects of classic BPF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CDialect {
    /// The kernel's tools/bpf/bpf_asm syntax (also tcpdump -d / bpf_dbg listings).
    #[value(name = "bpf_asm", alias = "bpf-asm")]
    BpfAsm,
    /// The readable seccomp form (`A = sys_number`, `if (A == openat) goto deny`).
    Seccomp,
}

/// Output forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// `struct sock_filter[]` bytes.
    Raw,
    /// `{ 0x20, 0, 0, 0x00000004 },` lines (`bpf_asm -c`, `tcpdump -dd`).
    C,
    /// `N,code jt jf k,...` (`tcpdump -ddd`, xt_bpf, tc).
    Bpfasm,
    /// An array of `libc::sock_filter`.
    Rust,
    /// JSON array of `{code, jt, jf, k}`.
    Json,
    /// bpf_asm text.
    #[value(name = "bpf_asm", alias = "bpf-asm")]
    BpfAsm,
    /// The readable seccomp form.
    Seccomp,
}

/// How diagnostics are colored (set once from `--color` by the subcommand entry points).
static COLOR: std::sync::OnceLock<crate::render::Color> = std::sync::OnceLock::new();

/// Sets the color choice for diagnostics (first call wins).
pub fn set_color(color: crate::render::Color) {
    let _ = COLOR.set(color);
}

/// Renders diagnostics for `src` (named `name`) to stderr through the CLI's renderer.
pub fn render(name: &str, src: &str, diags: &[Diagnostic]) {
    let color = COLOR.get().copied().unwrap_or(crate::render::Color::Auto);
    crate::render::emit(color, name, src, diags);
}

pub use crate::exit::Rejected;

/// Maps a [`Rejected`] error to exit status 1 (already reported); other errors pass.
pub fn exit_code(r: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match r {
        Err(e) => match e.downcast_ref::<Rejected>() {
            Some(Rejected(m)) => {
                // Empty: the reasons are already on stderr.
                if !m.is_empty() {
                    eprintln!("error: {m}");
                }
                Ok(ExitCode::from(1))
            }
            None => Err(e),
        },
        r => r,
    }
}

/// Reads a classic program from `path` (`-` is stdin) in any form. Text that is neither a C
/// array nor `N,...` is assembly in `dialect`, or, when `None`, seccomp if it looks like
/// it (`A =`, `return`, `goto`) and bpf_asm otherwise. Assembly errors are rendered to
/// stderr and returned as one error.
pub fn load_filter(path: &Path, dialect: Option<CDialect>) -> anyhow::Result<Vec<SockFilter>> {
    load_filter_endian(path, dialect, cbpf::Endian::Native)
}

/// [`load_filter`] reading raw files in byte order `endian`.
pub fn load_filter_endian(
    path: &Path,
    dialect: Option<CDialect>,
    endian: cbpf::Endian,
) -> anyhow::Result<Vec<SockFilter>> {
    let (bytes, _) = crate::input::read(Some(path))?;
    let name = path.display().to_string();
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) if !t.contains('\0') && path.extension().map_or(true, |e| e != "bpf") => t,
        _ => {
            return cbpf::decode_endian(&bytes, endian)
                .with_context(|| format!("{name}: not a struct sock_filter[]"))
        }
    };
    let result = match formats::detect(text) {
        TextKind::C => formats::parse_c(text),
        TextKind::Bpfasm => formats::parse_bpfasm(text),
        TextKind::Asm => {
            let d = dialect.unwrap_or_else(|| {
                if text.contains("A =") || text.contains("return") || text.contains("goto") {
                    CDialect::Seccomp
                } else {
                    CDialect::BpfAsm
                }
            });
            match d {
                CDialect::BpfAsm => bpf_asm::assemble(text),
                CDialect::Seccomp => seccomp::assemble(text),
            }
        }
    };
    result.map_err(|diags| {
        render(&name, text, &diags);
        // `render` ends with `error: NAME: N errors found`.
        anyhow::Error::new(Rejected(String::new()))
    })
}

/// Byte order of raw `struct sock_filter[]` input and output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EndianArg {
    /// This machine's (what its kernel reads).
    Native,
    /// Little-endian.
    Little,
    /// Big-endian (s390x, ...).
    Big,
}

impl From<EndianArg> for cbpf::Endian {
    fn from(e: EndianArg) -> cbpf::Endian {
        match e {
            EndianArg::Native => cbpf::Endian::Native,
            EndianArg::Little => cbpf::Endian::Little,
            EndianArg::Big => cbpf::Endian::Big,
        }
    }
}

/// Writes `prog` in `format` to `out` (stdout when `None`).
pub fn write_out(
    prog: &[SockFilter],
    format: OutFormat,
    arch: Arch,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    write_out_endian(prog, format, arch, out, cbpf::Endian::Native)
}

/// [`write_out`] with raw output in byte order `endian`.
pub fn write_out_endian(
    prog: &[SockFilter],
    format: OutFormat,
    arch: Arch,
    out: Option<&Path>,
    endian: cbpf::Endian,
) -> anyhow::Result<()> {
    let bytes = match format {
        OutFormat::Raw => cbpf::encode_endian(prog, endian),
        OutFormat::C => formats::write(prog, Format::C).into_bytes(),
        OutFormat::Bpfasm => formats::write(prog, Format::Bpfasm).into_bytes(),
        OutFormat::Rust => formats::write(prog, Format::Rust).into_bytes(),
        OutFormat::Json => formats::write(prog, Format::Json).into_bytes(),
        OutFormat::BpfAsm => bpf_asm::disassemble(prog).into_bytes(),
        OutFormat::Seccomp => seccomp::disassemble(prog, arch).into_bytes(),
    };
    match out {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display())),
        None => emit(&bytes),
    }
}

/// Whether output goes to a terminal: no output file and stdout is a TTY.
pub(crate) fn to_terminal(output: Option<&Path>) -> bool {
    output.is_none() && std::io::stdout().is_terminal()
}

/// The format of `bpfx cbpf asm` and `bpfx seccomp asm`, as `bpfx asm` picks it: raw
/// bytes, but never onto a terminal, where the default is the C array and asking for raw is
/// an error.
pub(crate) fn asm_format(
    format: Option<OutFormat>,
    to_terminal: bool,
) -> anyhow::Result<OutFormat> {
    match format {
        Some(OutFormat::Raw) if to_terminal => bail!(
            "refusing to write raw bytecode to a terminal; use -o FILE, a pipe, or --format c"
        ),
        Some(f) => Ok(f),
        None if to_terminal => Ok(OutFormat::C),
        None => Ok(OutFormat::Raw),
    }
}

/// Writes to stdout; a closed pipe (`bpfx ... | head`) ends output quietly.
pub fn emit(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

pub(crate) fn parse_arch(s: &str) -> Result<Arch, String> {
    Arch::from_name(s).ok_or_else(|| {
        format!("unknown architecture `{s}` (x86_64, i386, x32, aarch64, arm, riscv64)")
    })
}

/// Fails when `prog` is not a seccomp filter the kernel would load.
pub(crate) fn require_seccomp(name: &Path, prog: &[SockFilter]) -> anyhow::Result<()> {
    if let Err(e) = check(prog, Mode::Seccomp) {
        bail!(
            "{}: the kernel would refuse this filter: {e}",
            name.display()
        );
    }
    Ok(())
}
