//! `bpfx kernel`: the running Linux kernel as a backend (probe, run, conformance).
//!
//! Exit status: 0 ok, 1 the program or a case failed (rejected, wrong result), 2 usage or
//! I/O error, 77 the kernel cannot be used here (the reason on stderr).

use crate::input;
use ::kernel::conformance::{run_case, Outcome};
use ::kernel::probe::{Jit, TypeProbe};
use ::kernel::run::{run, RunInput, RunOutput};
use ::kernel::{Error, ProgType};
use anyhow::{bail, Context, Result};
use asm::text::Dialect;
use asm::Insn;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when the kernel cannot be used (the automake "skipped" convention).
pub const EXIT_UNAVAILABLE: u8 = 77;

/// Talk to the running kernel through bpf(2).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `bpfx kernel` subcommands.
#[derive(Debug, clap::Subcommand)]
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

/// The flags `bpfx run` and `bpfx kernel run` share.
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
    /// ELF object: the (first) program of this section.
    #[arg(long, value_name = "SEC", conflicts_with = "program")]
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
    /// A map for the program, `TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES` (e.g. `array:4:8:1`);
    /// repeat for more. The program's `lddw` map references hold the index (0, 1, ...).
    #[arg(long, value_parser = parse_map_arg)]
    pub map: Vec<MapArg>,
}

/// A map given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapArg {
    /// Its type.
    pub map_type: asm::types::MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
}

/// Parses `TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES`.
pub fn parse_map_arg(s: &str) -> Result<MapArg, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let [t, k, v, n] = parts[..] else {
        return Err(format!(
            "`{s}` is not TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES (e.g. array:4:8:1)"
        ));
    };
    let num = |what: &str, x: &str| -> Result<u32, String> {
        x.parse::<u32>().map_err(|_| {
            format!(
                "{what} `{x}` in `{s}` is not a number from 0 to {}",
                u32::MAX
            )
        })
    };
    Ok(MapArg {
        map_type: t.parse::<asm::types::MapType>()?,
        key_size: num("key size", k)?,
        value_size: num("value size", v)?,
        max_entries: num("max entries", n)?,
    })
}

/// Assembly syntaxes accepted as input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InDialect {
    /// LLVM syntax (`r0 = 1`).
    Llvm,
    /// ubpf / bpf_conformance syntax (`mov %r0, 1`).
    Ubpf,
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

/// Reads a program: assembly text (LLVM or ubpf syntax), hex text, or raw bytecode, told
/// apart as `bpfx run` does (text is UTF-8 without control characters; bytecode nearly
/// always holds zero bytes).
pub fn load_program(path: &Path, dialect: Option<InDialect>) -> Result<Vec<Insn>> {
    let (data, name) = input::read(Some(path))?;
    let is_asm = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm" | "bpf")
    );
    let bytes = if !is_asm && input::looks_like_hex(&data) {
        input::parse_hex(std::str::from_utf8(&data).unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?
    } else if is_asm || crate::run::is_text(&data) {
        let text = String::from_utf8(data).with_context(|| format!("{name} is not UTF-8 text"))?;
        let d = match dialect {
            Some(InDialect::Llvm) => Dialect::Llvm,
            Some(InDialect::Ubpf) => Dialect::Ubpf,
            None if text.contains("%r") => Dialect::Ubpf,
            None => Dialect::Llvm,
        };
        match asm::text::assemble(&text, d) {
            Ok(a) => return Ok(a.insns),
            Err(diags) => bail!(
                "{name} does not assemble:\n{}",
                crate::render::to_string(&name, &text, &diags)
            ),
        }
    } else {
        data
    };
    let decoded = asm::decode(&bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok(decoded.into_iter().map(|d| d.insn).collect())
}

/// The memory, packet and context a run gets.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Memory mode bytes.
    pub mem: Vec<u8>,
    /// Packet.
    pub packet: Vec<u8>,
    /// Context.
    pub ctx: Vec<u8>,
    /// Program type, if any.
    pub prog_type: Option<ProgType>,
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

/// A map a program refers to by index, with what it holds before the run.
#[derive(Debug, Clone)]
pub struct MapInit {
    /// Its shape.
    pub arg: MapArg,
    /// `map_flags`.
    pub flags: u32,
    /// Its name (`--map`: `bpfx_mapN`; an object's: the variable or section name).
    pub name: String,
    /// Global data: the single value's initial bytes.
    pub data: Option<Vec<u8>>,
}

/// A program to run with its maps (in index order) and, for an object, the type its
/// section gives.
#[derive(Debug)]
pub struct RunProgram {
    /// The instructions; `lddw` map references hold indexes into `maps`.
    pub insns: Vec<Insn>,
    /// The maps.
    pub maps: Vec<MapInit>,
    /// The type from the object's section name.
    pub section_type: Option<ProgType>,
}

/// Loads FILE: an ELF object's chosen program with the object's maps, or a text or
/// bytecode program with the --map maps.
pub fn load_run_program(args: &RunArgs) -> Result<RunProgram> {
    let name = args.file.display().to_string();
    let bytes = if args.file.as_os_str() == "-" {
        None
    } else {
        std::fs::read(&args.file).ok()
    };
    let Some(bytes) = bytes.filter(|b| crate::run::is_elf(b)) else {
        if args.section.is_some() || args.program.is_some() {
            bail!("--section and --program choose a program of an ELF object; {name} is not one");
        }
        return Ok(RunProgram {
            insns: load_program(&args.file, args.dialect)?,
            maps: args
                .map
                .iter()
                .enumerate()
                .map(|(i, m)| MapInit {
                    arg: *m,
                    flags: 0,
                    name: format!("bpfx_map{i}"),
                    data: None,
                })
                .collect(),
            section_type: None,
        });
    };
    if !args.map.is_empty() {
        bail!("--map is for assembly and bytecode: {name} declares its own maps");
    }
    let obj = obj::Object::parse(&bytes).with_context(|| name.clone())?;
    let i = crate::run::pick_program(
        &obj,
        &name,
        args.section.as_deref(),
        args.program.as_deref(),
    )?;
    let mut maps = Vec::new();
    for m in &obj.maps {
        if !m.slots.is_empty() {
            bail!(
                "{name}: map `{}` is a program array initialised with programs (`.values`), which the kernel backend does not load",
                m.spec.name
            );
        }
        maps.push(MapInit {
            arg: MapArg {
                map_type: m.spec.map_type,
                key_size: m.spec.key_size,
                value_size: m.spec.value_size,
                max_entries: m.spec.max_entries,
            },
            flags: m.spec.flags,
            name: m.spec.name.clone(),
            data: m.data.clone(),
        });
    }
    let p = &obj.programs[i];
    Ok(RunProgram {
        insns: p.insns.clone(),
        maps,
        section_type: Some(p.prog_type),
    })
}

/// Creates the maps in the kernel and stores their initial data.
pub fn create_kernel_maps(maps: &[MapInit]) -> Result<Vec<::kernel::Map>, Error> {
    let mut out = Vec::new();
    for m in maps {
        let spec = ::kernel::MapSpec::new(
            m.arg.map_type,
            m.arg.key_size,
            m.arg.value_size,
            m.arg.max_entries,
        )
        .with_flags(m.flags)
        .named(m.name.clone());
        let map = ::kernel::Map::create(&spec)?;
        if let Some(d) = &m.data {
            map.update(&0u32.to_le_bytes(), d, ::kernel::map::UpdateFlags::Any)?;
        }
        out.push(map);
    }
    Ok(out)
}

/// Reads the run inputs the flags name; without --type, an object's program runs as the
/// type its section gives.
pub fn read_inputs_for(args: &RunArgs, section_type: Option<ProgType>) -> Result<Inputs> {
    let mut inputs = read_inputs(args)?;
    if args.prog_type.is_none() {
        inputs.prog_type = section_type;
    }
    if inputs.prog_type.is_none() && (args.packet.is_some() || args.ctx.is_some()) {
        bail!("--packet and --ctx need --type (without it the program runs in memory mode: give --mem)");
    }
    Ok(inputs)
}

/// Reads the run inputs the flags name.
pub fn read_inputs(args: &RunArgs) -> Result<Inputs> {
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
    let prog_type = match &args.prog_type {
        // `bpfx run`'s name for memory mode.
        Some(t) if t.eq_ignore_ascii_case("plain") => None,
        Some(t) => Some(
            t.parse::<ProgType>()
                .map_err(|e| anyhow::anyhow!("--type: {e}"))?,
        ),
        None => None,
    };
    if prog_type.is_some() && !mem.is_empty() {
        bail!("--mem/--mem-hex is for memory mode (no --type); with --type give --packet or --ctx");
    }
    Ok(Inputs {
        mem,
        packet: read(&args.packet)?,
        ctx: read(&args.ctx)?,
        prog_type,
    })
}

/// Whether an error means the kernel cannot be used here at all (as opposed to this
/// program being refused).
pub fn is_unavailable(e: &Error) -> bool {
    e.is_unavailable()
}

/// The JSON shape of a run, shared with `bpfx cross-check`.
pub fn output_json(out: &RunOutput, prog_type: Option<ProgType>, repeat: u32) -> serde_json::Value {
    // The same keys as `bpfx run --json`, plus what only the kernel side has.
    json!({
        "engine": "kernel",
        "type": prog_type.map_or("plain", |t| t.name()),
        "r0": format!("{:#x}", out.r0),
        "r0_bits": out.r0_bits,
        "meaning": prog_type.and_then(|t| ::kernel::prog::meaning(t, out.r0)),
        "insns": null,
        "ns_per_run": out.ns_per_run,
        "repeat": repeat,
        "data": hex(&out.data),
        "ctx": hex(&out.ctx),
    })
}

/// Hex of at most 64 bytes, with the total length when there is more.
pub fn hex_short(b: &[u8]) -> String {
    if b.len() <= 64 {
        hex(b)
    } else {
        format!("{}… ({} bytes)", hex(&b[..64]), b.len())
    }
}

/// Lower-case hex, no separators.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run_main(args: RunArgs) -> Result<ExitCode> {
    let loaded = load_run_program(&args)?;
    let prog = loaded.insns;
    let inputs = read_inputs_for(&args, loaded.section_type)?;
    let maps = match create_kernel_maps(&loaded.maps) {
        Ok(m) => m,
        Err(e) if is_unavailable(&e) => {
            eprintln!("kernel unavailable: {e}");
            return Ok(ExitCode::from(EXIT_UNAVAILABLE));
        }
        Err(e) => bail!("creating the maps: {e}"),
    };
    let input = RunInput {
        prog_type: inputs.prog_type,
        mem: &inputs.mem,
        packet: &inputs.packet,
        ctx: &inputs.ctx,
        repeat: args.repeat,
        maps: maps.iter().collect(),
        want_log: args.log,
        mem_in_map: args.mem_in_map,
    };
    let out = match run(&prog, &input) {
        Ok(out) => out,
        Err(e) if is_unavailable(&e) => {
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
    if args.log {
        eprintln!("verifier log:\n{}", out.log.trim_end());
    }
    let mut dumps = Vec::new();
    for m in &maps {
        // Ring buffer records are read through mmap, which bpfx does not do: no entries.
        if m.spec().map_type == asm::types::MapType::Ringbuf {
            dumps.push(Vec::new());
            continue;
        }
        let mut entries = m.entries()?;
        entries.sort();
        dumps.push(entries);
    }
    if args.json {
        let mut v = output_json(&out, inputs.prog_type, args.repeat);
        v["maps"] = json!(dumps
            .iter()
            .map(|e| e
                .iter()
                .map(|(k, v)| json!({"key": hex(k), "value": hex(v)}))
                .collect::<Vec<_>>())
            .collect::<Vec<_>>());
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let width = if out.r0_bits == 64 {
            ""
        } else {
            " [low 32 bits: the kernel refused the wrapper]"
        };
        let meaning = inputs
            .prog_type
            .and_then(|t| ::kernel::prog::meaning(t, out.r0))
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        println!("r0 = {:#x} ({}){meaning}{width}", out.r0, out.r0 as i64);
        println!("instructions executed: not counted by the kernel");
        let runs = if args.repeat == 1 {
            "1 run".to_string()
        } else {
            format!("{} runs", args.repeat)
        };
        println!(
            "{} ns per run, measured by the kernel ({runs})",
            out.ns_per_run
        );
        let (what, before) = if inputs.prog_type.is_none() {
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
        for (i, entries) in dumps.iter().enumerate() {
            let shown: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}={}", hex(k), hex(v)))
                .collect();
            match loaded.section_type {
                Some(_) => println!("map {i} `{}`: {}", loaded.maps[i].name, shown.join(" ")),
                None => println!("map {i}: {}", shown.join(" ")),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The verdict of one `.data` test in the kernel (for `bpfx conformance --kernel`):
/// `expect_error` tests pass when the kernel refuses the program.
pub fn conformance_verdict(
    prog: &[u8],
    mem: &[u8],
    result: Option<u64>,
    expect_error: bool,
) -> crate::conformance::Verdict {
    use crate::conformance::Verdict;
    let insns: Vec<Insn> = match asm::decode(prog) {
        Ok(d) => d.into_iter().map(|d| d.insn).collect(),
        Err(_) if expect_error => return Verdict::Pass,
        Err(e) => return Verdict::Fail(format!("undecodable: {e}")),
    };
    match (result, expect_error) {
        (_, true) => match run(
            &insns,
            &RunInput {
                mem,
                ..Default::default()
            },
        ) {
            Err(_) => Verdict::Pass,
            Ok(out) => Verdict::Fail(format!("r0 is {:#x}, expected an error", out.r0)),
        },
        (Some(want), false) => match run_case(&insns, mem, want) {
            Outcome::Pass => Verdict::Pass,
            Outcome::Mismatch { expected, got } => {
                Verdict::Fail(format!("r0 is {got:#x}, expected {expected:#x}"))
            }
            Outcome::ExpectedRejection { message, why } => {
                Verdict::ExpectedRejection(format!("{message} ({why})"))
            }
            Outcome::Error(e) => Verdict::Fail(e.to_string()),
        },
        (None, false) => Verdict::Skip("no expectation".into()),
    }
}

/// One conformance case: a name, the program, the memory and the expected r0.
#[derive(Debug, Clone)]
pub struct Case {
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
pub fn read_jsonl(path: &Path) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
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
pub fn run_conformance(cases: &[Case], json_out: bool) -> Result<ExitCode> {
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
