//! `bpfx run`: run a program in the VM and show r0, its meaning for the program type, and
//! `bpf_trace_printk` output.

use crate::input::{self, hex};
use crate::render;
use anyhow::{bail, Context, Result};
use asm::text::{self, Dialect};
use asm::Insn;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use vm::{ProgType, Step, Vm};

const EXAMPLES: &str = "\
Examples:
  bpfx run prog.s                                  r0 of an LLVM-syntax program
  bpfx run --dialect ubpf test.asm --mem-hex '01 02 03'   r1 = that memory, r2 = 3
  bpfx run --type xdp --packet pkt.bin xdp.s       XDP verdict for a packet
  bpfx run --trace prog.s                          every executed instruction
  bpfx run --json --repeat 1000 loop.s             timing per run and per instruction
  bpfx run prog.o --section xdp --packet pkt.bin   a program of a clang-built object";

/// Run a BPF program in the VM (kernel semantics, no root needed).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The program: assembly text (LLVM or ubpf syntax), raw bytecode (`-`: stdin), or an
    /// ELF object (pick the program with --section or --program).
    pub file: PathBuf,
    /// Program type: plain (r1 = --mem, r2 = its length), socket_filter, sched_cls (tc),
    /// xdp, kprobe, tracepoint, raw_tracepoint, syscall. Default: plain, or for an object
    /// the type its section gives.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub prog_type: Option<TypeArg>,
    /// ELF object: run the program of this section (`xdp`, `socket`, ...; a section with
    /// several programs needs --program).
    #[arg(long, value_name = "SEC")]
    pub section: Option<String>,
    /// ELF object: run the program with this function name.
    #[arg(long, value_name = "NAME")]
    pub program: Option<String>,
    /// Target BTF for an object's CO-RE relocations (raw BTF or an ELF object with
    /// `.BTF`; default: /sys/kernel/btf/vmlinux).
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
    /// Kernel configuration for an object's `__kconfig` externs (`CONFIG_*=` lines as in
    /// /proc/config.gz, plus LINUX_KERNEL_VERSION=, LINUX_HAS_BPF_COOKIE=,
    /// LINUX_HAS_SYSCALL_WRAPPER=). Without it such programs are refused by name.
    #[arg(long, value_name = "FILE")]
    pub kconfig: Option<PathBuf>,
    /// User memory from a file (r1 points at it for `--type plain`).
    #[arg(long, value_name = "FILE", conflicts_with = "mem_hex")]
    pub mem: Option<PathBuf>,
    /// User memory as hex bytes.
    #[arg(long, value_name = "HEX")]
    pub mem_hex: Option<String>,
    /// Packet bytes for socket_filter, sched_cls and xdp.
    #[arg(long, value_name = "FILE")]
    pub packet: Option<PathBuf>,
    /// Raw context bytes for kprobe (pt_regs), tracepoint, raw_tracepoint and syscall.
    #[arg(long, value_name = "FILE")]
    pub ctx: Option<PathBuf>,
    /// Print every executed instruction with the registers it changed.
    #[arg(long)]
    pub trace: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Run N times and report the time per run and per instruction (memory carries over
    /// from run to run).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Syntax of a text program (default: ubpf if it uses `%r` registers, else LLVM).
    #[arg(long, value_enum)]
    pub dialect: Option<crate::load::InDialect>,
    /// How to read FILE (default: bytecode if it is not text, else assembly).
    #[arg(long, value_enum, default_value_t = crate::load::InputKind::Auto)]
    pub input: crate::load::InputKind,
    /// Run without verifying first. By default a program with a kernel program type is
    /// checked by bpfx's verifier and refused when the kernel would refuse to load it
    /// (`--type plain` has no kernel counterpart and is never verified).
    #[arg(long)]
    pub no_verify: bool,
    /// Instruction budget per run.
    #[arg(long, value_name = "N", default_value_t = vm::DEFAULT_BUDGET)]
    pub budget: u64,
    /// Create a map before loading: [NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]
    /// (types: array, hash, percpu_array, percpu_hash, lru_hash, lru_percpu_hash, prog_array,
    /// ringbuf, queue, stack). Maps are numbered 0, 1, ... in order: `lddw map_fd N` names
    /// map N (as in `bpfx kernel run` and `bpfx verify`); their contents are shown after the
    /// run.
    #[arg(long = "map", value_name = "SPEC", value_parser = crate::input::map_spec)]
    pub maps: Vec<asm::types::MapSpec>,
}

/// One map after a run: fd, type, entries as (key, value) hex, ring buffer records as hex.
type MapReport = (u32, String, Vec<(String, String)>, Vec<String>);

fn map_report(m: &Vm, n: usize) -> Vec<MapReport> {
    (0..n as u32)
        .filter_map(|i| {
            let fd = i;
            let map = m.map(fd)?;
            let ty = map.spec().map_type.name().to_string();
            let entries = map
                .keys()
                .into_iter()
                .filter_map(|k| {
                    let v = map.lookup(&k).ok().flatten()?;
                    // Arrays list every index; show the ones that hold something.
                    let array = matches!(
                        map.spec().map_type,
                        vm::MapType::Array | vm::MapType::PercpuArray
                    );
                    (!array || v.iter().any(|&b| b != 0)).then(|| (hex(&k), hex(&v)))
                })
                .collect();
            let records = map.records().iter().map(|r| hex(r)).collect();
            Some((fd, ty, entries, records))
        })
        .collect()
}

/// `--type`: a program type the VM runs, or `plain` (`None`: no kernel context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeArg(pub Option<ProgType>);

fn parse_type(s: &str) -> Result<TypeArg, String> {
    let unknown = || {
        let names: Vec<_> = std::iter::once("plain")
            .chain(vm::SUPPORTED_PROG_TYPES.iter().map(|t| t.name()))
            .collect();
        format!(
            "unknown program type `{s}` (expected one of: {})",
            names.join(", ")
        )
    };
    match vm::parse_prog_type(s) {
        Ok(Some(t)) if !vm::SUPPORTED_PROG_TYPES.contains(&t) => Err(unknown()),
        Ok(t) => Ok(TypeArg(t)),
        Err(_) => Err(unknown()),
    }
}

/// A loaded program's source, for printing instructions.
struct Loaded {
    /// The instructions.
    pub insns: Vec<Insn>,
    /// The dialect to print them in.
    pub dialect: Dialect,
    /// The source text and each instruction's span, for programs read as assembly.
    pub source: Option<(String, Vec<asm::Span>)>,
    /// The input's name for messages.
    pub name: String,
    /// For an object's program: it, for source lines from its line info.
    pub object: Option<obj::Program>,
}

/// Reads FILE into instructions (assembly errors are rendered and rejected).
fn read_program(args: &Args) -> Result<Loaded> {
    let r = crate::load::read_program(&args.file, args.input, args.dialect, render::Color::Auto)?;
    let insns = r.insns()?;
    Ok(Loaded {
        insns,
        dialect: r.dialect,
        source: match r.code {
            crate::load::Code::Assembled { src, spans, .. } => Some((src, spans)),
            crate::load::Code::Bytes(_) => None,
        },
        name: r.name,
        object: None,
    })
}

/// What the kernel's verifier would say, for a program with a kernel program type.
fn verified(
    prog_type: Option<ProgType>,
    maps: Vec<Option<verifier::MapSpec>>,
    loaded: &Loaded,
) -> bool {
    // `plain` (r1 = user memory) is the conformance suite's convention, not a kernel type.
    let Some(kernel_type) = prog_type else {
        return true;
    };
    let mut opts = verifier::Options::new(kernel_type);
    let Some(maps) = maps.into_iter().collect::<Option<Vec<_>>>() else {
        return true;
    };
    opts.maps = maps;
    let source = loaded
        .source
        .as_ref()
        .map(|(s, spans)| (s.as_str(), spans.as_slice()));
    crate::verdict::gate(
        &loaded.insns,
        &loaded.name,
        source,
        loaded.object.as_ref(),
        &opts,
        crate::render::Color::Auto,
    )
}

fn read_file(p: &std::path::Path, what: &str) -> Result<Vec<u8>> {
    input::read_file(p).with_context(|| format!("cannot read {what} file"))
}

/// Where the program runs: a VM of its own, or an object's test bench.
enum Bench {
    Plain(Box<Vm>),
    Object(Box<vm::testing::Test>),
}

/// Loads an ELF object's chosen program into a test bench (maps created from the object,
/// `.rodata`/`.data`/`.bss` initialised); the type is the section's unless --type is given.
fn read_object(args: &Args, bytes: &[u8]) -> Result<(vm::testing::Test, Loaded, Option<ProgType>)> {
    let name = args.file.display().to_string();
    if !args.maps.is_empty() {
        bail!("--map is for assembly and bytecode: {name} declares its own maps");
    }
    let mut obj = crate::load::object(bytes, &name)?;
    crate::core_relocs::apply(&mut obj, args.btf.as_deref(), &name)?;
    crate::kconfig::apply(&mut obj, args.kconfig.as_deref(), &name)?;
    let i = harness::program::pick_index(
        &obj,
        &name,
        args.section.as_deref(),
        args.program.as_deref(),
    )
    .map_err(|e| crate::load::pick_error(&obj, e))?;
    if let Some(t) = args.prog_type {
        obj.programs[i].prog_type = match t.0 {
            None => bail!("an object's program runs with a kernel type, not `plain`"),
            Some(t) => Some(t),
        };
    }
    let p = obj.programs[i].clone();
    p.loadable()
        .map_err(|e| crate::exit::Rejected(format!("{name}: {e}")))?;
    let prog_type = p
        .type_or(None)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut test = vm::testing::Test::from_object(&obj).with_context(|| name.clone())?;
    test.select(&p.name)?;
    if !vm::SUPPORTED_PROG_TYPES.contains(&prog_type) {
        bail!(
            "{name}: program `{}` (section `{}`) has type {prog_type}, which the VM cannot run",
            p.name,
            p.section,
        );
    }
    Ok((
        test,
        Loaded {
            insns: p.insns.clone(),
            dialect: Dialect::Llvm,
            source: None,
            name: format!("{name}:{}", p.name),
            object: Some(p),
        },
        Some(prog_type),
    ))
}

/// Entry point.
pub fn main(args: Args) -> Result<ExitCode> {
    let path = (args.file.as_os_str() != "-").then_some(args.file.as_path());
    let elf = match path {
        Some(p) => input::read_file(p)
            .map(|b| input::is_elf(&b).then_some(b))
            .unwrap_or(None),
        None => None,
    };
    if elf.is_none() && (args.section.is_some() || args.program.is_some()) {
        bail!(
            "--section and --program choose a program of an ELF object; {} is not one",
            args.file.display()
        );
    }
    let (mut bench, loaded, prog_type) = match &elf {
        Some(bytes) => {
            let (t, l, pt) = read_object(&args, bytes)?;
            (Bench::Object(Box::new(t)), l, pt)
        }
        None => {
            let loaded = read_program(&args)?;
            (
                Bench::Plain(Box::new(Vm::new())),
                loaded,
                args.prog_type.and_then(|t| t.0),
            )
        }
    };
    if args.packet.is_some()
        && !matches!(
            prog_type,
            Some(ProgType::SocketFilter | ProgType::SchedCls | ProgType::Xdp)
        )
    {
        bail!(
            "--packet needs --type socket_filter, sched_cls or xdp (this is {})",
            vm::prog_type_name(prog_type)
        );
    }
    if args.ctx.is_some()
        && !matches!(
            prog_type,
            Some(
                ProgType::Kprobe
                    | ProgType::Tracepoint
                    | ProgType::RawTracepoint
                    | ProgType::Syscall
            )
        )
    {
        bail!(
            "--ctx needs --type kprobe, tracepoint, raw_tracepoint or syscall (this is {})",
            vm::prog_type_name(prog_type)
        );
    }
    if !args.no_verify {
        // The verifier sees the maps the program will get: the object's, or `--map`'s.
        let maps = match &bench {
            Bench::Object(t) => t.maps().iter().map(|m| Some(m.spec.clone())).collect(),
            Bench::Plain(_) => args
                .maps
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let name = if m.name.is_empty() {
                        format!("map{i}")
                    } else {
                        m.name.clone()
                    };
                    Some(m.clone().named(name))
                })
                .collect(),
        };
        if !verified(prog_type, maps, &loaded) {
            return Ok(ExitCode::from(1));
        }
    }
    let (machine, map_names, object_id) = match &mut bench {
        Bench::Plain(m) => (&mut **m, Vec::new(), None),
        Bench::Object(t) => {
            let names: Vec<String> = t.maps().iter().map(|m| m.name().to_string()).collect();
            let id = t.prog_id();
            (t.vm_mut(), names, Some(id))
        }
    };
    machine.set_budget(args.budget);
    for (i, spec) in args.maps.iter().enumerate() {
        if !vm::SUPPORTED_MAP_TYPES.contains(&spec.map_type) {
            bail!(
                "--map #{}: {}",
                i + 1,
                vm::MapError::Unsupported(spec.map_type)
            );
        }
        if let Err(e) = machine.create_map(spec.clone()) {
            bail!("--map #{} ({:?}): {e}", i + 1, spec.map_type);
        }
    }
    let nmaps = args.maps.len().max(map_names.len());
    if let Some(p) = &args.mem {
        machine.set_mem(read_file(p, "memory")?);
    }
    if let Some(h) = &args.mem_hex {
        machine.set_mem(input::parse_hex(h).map_err(|e| anyhow::anyhow!("--mem-hex: {e}"))?);
    }
    if let Some(p) = &args.packet {
        machine.set_packet(read_file(p, "packet")?);
    }
    if let Some(p) = &args.ctx {
        machine.set_ctx(read_file(p, "context")?);
    }
    let loaded_id = match object_id {
        Some(id) => id.map_err(|e| e.to_string()),
        None => machine
            .load_insns(&loaded.insns, prog_type)
            .map_err(|e| e.to_string()),
    };
    let id = match loaded_id {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: cannot load the program: {e}");
            return Ok(ExitCode::from(1));
        }
    };

    let (first, steps) = if args.trace {
        let (r, s) = machine.run_traced(id);
        (r, Some(s))
    } else {
        (machine.run(id), None)
    };
    let mut timing = None;
    if args.repeat > 1 {
        if let Ok(out) = &first {
            // The first run (above) counts: N runs in all, the other N - 1 timed.
            let rest = args.repeat - 1;
            let start = Instant::now();
            for _ in 0..rest {
                if let Err(e) = machine.run(id) {
                    eprintln!("error: a repeated run failed: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
            let ns_run = start.elapsed().as_nanos() as f64 / rest as f64;
            timing = Some((ns_run, ns_run / out.insns.max(1) as f64));
        }
    }

    let print_insn = |pc: usize| -> String {
        let mut slot = 0;
        for i in &loaded.insns {
            if slot == pc {
                return text::print_insn(i, loaded.dialect);
            }
            slot += i.slots();
        }
        String::new()
    };
    let lines: Vec<String> = machine
        .trace_lines()
        .iter()
        .map(|l| l.line.clone())
        .collect();
    if args.json {
        let mut obj = serde_json::Map::new();
        obj.insert("type".into(), vm::prog_type_name(prog_type).into());
        match &first {
            Ok(out) => {
                obj.insert("r0".into(), format!("{:#x}", out.r0).into());
                obj.insert("insns".into(), out.insns.into());
                if let Some(m) = prog_type.and_then(|t| t.r0_meaning(out.r0)) {
                    obj.insert("meaning".into(), m.into());
                }
            }
            Err(e) => {
                obj.insert("error".into(), e.to_string().into());
                obj.insert("pc".into(), e.pc.into());
            }
        }
        obj.insert("trace_printk".into(), lines.into());
        if nmaps > 0 {
            let maps: Vec<serde_json::Value> = map_report(machine, nmaps)
                .into_iter()
                .map(|(fd, ty, entries, records)| {
                    let entries: Vec<_> =
                        entries.into_iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect();
                    let name = map_names.get(fd as usize);
                    serde_json::json!({"map": fd, "name": name, "type": ty, "entries": entries, "records": records})
                })
                .collect();
            obj.insert("maps".into(), maps.into());
        }
        if let Some((run, insn)) = timing {
            obj.insert("repeat".into(), args.repeat.into());
            obj.insert("ns_per_run".into(), run.into());
            obj.insert("ns_per_insn".into(), insn.into());
        }
        if let Some(steps) = &steps {
            let v: Vec<serde_json::Value> = steps
                .iter()
                .map(|s| {
                    let changed: serde_json::Map<_, _> = s
                        .changed
                        .iter()
                        .map(|(r, v)| (format!("r{r}"), format!("{v:#x}").into()))
                        .collect();
                    serde_json::json!({"pc": s.pc, "insn": print_insn(s.pc), "changed": changed})
                })
                .collect();
            obj.insert("steps".into(), v.into());
        }
        println!("{}", serde_json::Value::Object(obj));
    } else {
        if let Some(steps) = &steps {
            print!("{}", render_steps(steps, &print_insn));
        }
        for l in &lines {
            println!("{l}");
        }
        for (fd, ty, entries, records) in map_report(machine, nmaps) {
            let name = map_names
                .get(fd as usize)
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default();
            println!(
                "map {fd}{name} ({ty}): {} entries",
                entries.len() + records.len()
            );
            for (k, v) in entries {
                println!("  {k} => {v}");
            }
            for r in records {
                println!("  record {r}");
            }
        }
        if let Ok(out) = &first {
            let meaning = prog_type
                .and_then(|t| t.r0_meaning(out.r0))
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            println!("r0 = {:#x} ({}){meaning}", out.r0, out.r0 as i64);
            println!("{} instructions executed", out.insns);
            if let Some((run, insn)) = timing {
                println!(
                    "{run:.1} ns per run, {insn:.3} ns per instruction ({} runs)",
                    args.repeat
                );
            }
        }
    }
    if let Err(e) = &first {
        let text = print_insn(e.pc);
        eprintln!("error: {e}");
        if !text.is_empty() {
            eprintln!("  --> {}: {text}", e.pc);
        }
        if let Some(line) = crate::verdict::object_line(loaded.object.as_ref(), e.pc) {
            eprintln!("  --> {line}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--trace` table: slot, instruction, changed registers.
fn render_steps(steps: &[Step], print: &dyn Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut last_prog = steps.first().map(|s| s.prog);
    for s in steps {
        if Some(s.prog) != last_prog {
            out.push_str(&format!("-- tail call into program {}\n", s.prog));
            last_prog = Some(s.prog);
        }
        let changes: Vec<String> = s
            .changed
            .iter()
            .map(|(r, v)| format!("r{r}={v:#x}"))
            .collect();
        let text = if s.prog == steps[0].prog {
            print(s.pc)
        } else {
            format!("{}", s.insn)
        };
        out.push_str(format!("{:>5}: {:<36} {}", s.pc, text, changes.join(" ")).trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_of(src: &str, mem: &[u8]) -> String {
        let a = text::assemble(src, Dialect::Ubpf).unwrap();
        let mut m = Vm::new();
        m.set_mem(mem.to_vec());
        let id = m.load_insns(&a.insns, None).unwrap();
        let (res, steps) = m.run_traced(id);
        let print = |pc: usize| {
            a.index_of_pc(pc)
                .map(|i| text::print_insn(&a.insns[i], Dialect::Ubpf))
                .unwrap_or_default()
        };
        let mut out = render_steps(&steps, &print);
        out.push_str(&match res {
            Ok(o) => format!("r0 = {:#x}, {} instructions\n", o.r0, o.insns),
            Err(e) => format!("error: {e}\n"),
        });
        out
    }

    #[test]
    fn trace_shows_each_step_and_the_registers_it_changed() {
        let src = "\
mov %r0, 0
ldxb %r2, [%r1]
loop:
add %r0, %r2
sub %r2, 1
jne %r2, 0, loop
lddw %r3, 0x100000000
or %r0, %r3
call local f
exit
f:
stdw [%r10-8], 7
ldxdw %r0, [%r10-8]
exit
";
        insta::assert_snapshot!(trace_of(src, &[3]));
    }

    #[test]
    fn trace_ends_at_a_fault() {
        insta::assert_snapshot!(trace_of("mov %r0, 1\nldxw %r0, [%r1+2]\nexit", &[1, 2, 3]));
    }

    #[test]
    fn text_or_bytecode() {
        assert!(input::is_text(b"mov %r0, 1\nexit\n"));
        assert!(!input::is_text(&asm::Insn::mov64_imm(0, 1).encode()));
        assert!(!input::is_text(&[0xff, 0xfe]));
    }
}
