//! `bpfx test`: declarative test files (TOML) run in the VM, in the kernel (`--kernel`), or
//! in both, compared (`--both`). One line per case, then `N passed, N failed` (and
//! `N skipped` when the kernel could not run some cases); a failing case shows what was
//! expected and what happened.
//!
//! The format is described in `docs/unit-testing.md`.

use anyhow::Result;
use asm::types::{MapType, ProgType};
use asm::Dialect;
use obj::{Map as MapDef, Object};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vm::testing::Test;
use vm::Env;

/// Run declarative test files (TOML) against BPF programs in the VM (or the kernel).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each file names a program (a clang-built object and a program or section, or an assembly
file and a type), the maps' initial contents, and cases: input packet or context, and the
expected return value, maps, globals, output packet, trace lines and ring buffer records.

Examples:
  bpfx test testdata/elf/tests/xdp_count.toml
  bpfx test testdata/elf/tests/*.toml")]
pub struct Args {
    /// Test files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run the cases in the kernel instead (load, create and fill maps, BPF_PROG_TEST_RUN,
    /// read maps back); cases the kernel cannot run print `skipped: <reason>`.
    #[arg(long, conflicts_with = "both")]
    pub kernel: bool,
    /// Run every case in the VM and in the kernel; a difference between them is a failure.
    #[arg(long)]
    pub both: bool,
}

/// Which engines run the cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The VM only.
    Vm,
    /// The kernel only.
    Kernel,
    /// Both, compared.
    Both,
}

/// A map key or value: an integer (little-endian in the field's size) or hex bytes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Hex(String),
}

/// A map value: one value, or one per CPU for per-CPU maps.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum MapValue {
    One(Scalar),
    PerCpu(Vec<Scalar>),
}

type Entries = Vec<(Scalar, MapValue)>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Object file, relative to the test file.
    object: Option<PathBuf>,
    /// Program name or section in the object.
    program: Option<String>,
    /// Assembly file, relative to the test file.
    asm: Option<PathBuf>,
    /// Dialect of the assembly file.
    dialect: Option<String>,
    /// Program type of the assembly file.
    #[serde(rename = "type")]
    prog_type: Option<String>,
    /// Maps for the assembly program, in index order.
    #[serde(default, rename = "map")]
    map_defs: Vec<MapDecl>,
    /// Initial map contents for every case.
    #[serde(default)]
    maps: BTreeMap<String, Entries>,
    /// Program arrays: index → program name.
    #[serde(default)]
    tail_calls: BTreeMap<String, Vec<(u32, String)>>,
    /// Environment for every case.
    #[serde(default)]
    env: EnvDecl,
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapDecl {
    name: String,
    #[serde(rename = "type")]
    map_type: String,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    #[serde(default)]
    flags: u32,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvDecl {
    pid: Option<u32>,
    tgid: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    comm: Option<String>,
    cpu: Option<u32>,
    ncpus: Option<u32>,
    ktime_ns: Option<u64>,
    mark: Option<u32>,
    priority: Option<u32>,
    ingress_ifindex: Option<u32>,
    ifindex: Option<u32>,
    hash: Option<u32>,
    vlan_tci: Option<u32>,
    rx_queue_index: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// Program for this case (default: the file's).
    program: Option<String>,
    packet: Option<String>,
    packet_file: Option<PathBuf>,
    /// Raw context bytes (kprobe, tracepoint, raw tracepoint, syscall).
    ctx: Option<String>,
    /// kprobe: `struct pt_regs` registers by name (x86-64).
    #[serde(default)]
    regs: BTreeMap<String, u64>,
    #[serde(default)]
    env: EnvDecl,
    #[serde(default)]
    maps: BTreeMap<String, Entries>,
    #[serde(default)]
    globals: BTreeMap<String, Scalar>,
    /// Runs of the program (expectations are checked after the last).
    #[serde(default = "one")]
    repeat: u32,
    #[serde(default)]
    expect: Expect,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    ret: Option<Scalar>,
    packet: Option<String>,
    trace: Option<Vec<String>>,
    #[serde(default)]
    ringbuf: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    maps: BTreeMap<String, Entries>,
    #[serde(default)]
    globals: BTreeMap<String, Scalar>,
    insns: Option<u64>,
    error: Option<String>,
}

/// `struct pt_regs` on x86-64 (`arch/x86/include/asm/ptrace.h`): register → byte offset.
const PT_REGS: &[(&str, usize)] = &[
    ("r15", 0),
    ("r14", 8),
    ("r13", 16),
    ("r12", 24),
    ("bp", 32),
    ("bx", 40),
    ("r11", 48),
    ("r10", 56),
    ("r9", 64),
    ("r8", 72),
    ("ax", 80),
    ("cx", 88),
    ("dx", 96),
    ("si", 104),
    ("di", 112),
    ("orig_ax", 120),
    ("ip", 128),
    ("cs", 136),
    ("flags", 144),
    ("sp", 152),
    ("ss", 160),
];
const PT_REGS_SIZE: usize = 168;

/// The outcome of one case.
#[derive(Debug)]
struct CaseResult {
    name: String,
    /// `Ok(summary)` or the mismatches.
    outcome: Result<Outcome, Vec<String>>,
}

/// A case that did not fail.
#[derive(Debug)]
enum Outcome {
    /// It passed; a summary of what it returned.
    Passed(String),
    /// It could not run here; why.
    Skipped(String),
}

pub fn main(args: Args) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mode = match (args.kernel, args.both) {
        (true, _) => Mode::Kernel,
        (_, true) => Mode::Both,
        _ => Mode::Vm,
    };
    if mode != Mode::Vm {
        if let Err(why) = ::kernel::probe::availability() {
            eprintln!("kernel unavailable: {why}");
            return Ok(ExitCode::from(crate::kernel::EXIT_UNAVAILABLE));
        }
    }
    let (passed, failed) = run_files_mode(&args.files, mode, &mut out)?;
    Ok(if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs every file in the VM (see [`run_files_mode`]).
#[cfg(test)]
fn run_files(files: &[PathBuf], out: &mut dyn Write) -> Result<(usize, usize)> {
    run_files_mode(files, Mode::Vm, out)
}

/// Runs every file, writing one line per case and the totals; returns (passed, failed).
/// A file that cannot be read or parsed counts as one failure. Skipped cases are neither.
fn run_files_mode(files: &[PathBuf], mode: Mode, out: &mut dyn Write) -> Result<(usize, usize)> {
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for f in files {
        let shown = f.display();
        match run_file(f, mode) {
            Ok(results) => {
                if results.is_empty() {
                    writeln!(out, "FAIL {shown}: the file has no [[case]]")?;
                    failed += 1;
                }
                for r in results {
                    match r.outcome {
                        Ok(Outcome::Passed(summary)) => {
                            passed += 1;
                            writeln!(out, "ok   {shown}: {} ({summary})", r.name)?;
                        }
                        Ok(Outcome::Skipped(why)) => {
                            skipped += 1;
                            writeln!(out, "skip {shown}: {} (skipped: {why})", r.name)?;
                        }
                        Err(lines) => {
                            failed += 1;
                            writeln!(out, "FAIL {shown}: {}", r.name)?;
                            for l in lines {
                                writeln!(out, "       {l}")?;
                            }
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                writeln!(out, "FAIL {shown}: {e}")?;
            }
        }
    }
    if skipped > 0 {
        writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped")?;
    } else {
        writeln!(out, "{passed} passed, {failed} failed")?;
    }
    Ok((passed, failed))
}

/// What a file's cases run: an object, or one assembled program with its maps.
enum Source {
    Object(Box<Object>),
    Asm {
        insns: Vec<asm::Insn>,
        prog_type: ProgType,
        maps: Vec<MapDef>,
    },
}

fn run_file(path: &Path, mode: Mode) -> Result<Vec<CaseResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let col = s.start - text[..s.start].rfind('\n').map_or(0, |n| n + 1) + 1;
                format!("{line}:{col}: ")
            })
            .unwrap_or_default();
        format!("{at}{}", e.message())
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let source = match (&file.object, &file.asm) {
        (Some(obj), None) => {
            if file.prog_type.is_some() || file.dialect.is_some() || !file.map_defs.is_empty() {
                return Err(
                    "`type`, `dialect` and `[[map]]` are for `asm` files; an object has its own"
                        .into(),
                );
            }
            let p = dir.join(obj);
            let bytes = std::fs::read(&p).map_err(|e| format!("object {}: {e}", p.display()))?;
            Source::Object(Box::new(
                Object::parse(&bytes).map_err(|e| format!("object {}: {e}", p.display()))?,
            ))
        }
        (None, Some(asm_path)) => {
            let p = dir.join(asm_path);
            let src = std::fs::read_to_string(&p)
                .map_err(|e| format!("assembly {}: {e}", p.display()))?;
            let dialect = match file.dialect.as_deref() {
                None | Some("llvm") => Dialect::Llvm,
                Some("ubpf") => Dialect::Ubpf,
                Some(other) => {
                    return Err(format!(
                        "unknown dialect `{other}` (expected `llvm` or `ubpf`)"
                    ))
                }
            };
            let assembled = asm::text::assemble(&src, dialect).map_err(|ds| {
                let idx = asm::diag::LineIndex::new(&src);
                ds.iter()
                    .map(|d| {
                        let (l, c) = idx.line_col(d.span.start);
                        format!("{}:{l}:{c}: {}", p.display(), d.message)
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let prog_type = file
                .prog_type
                .as_deref()
                .ok_or("an `asm` file needs `type` (xdp, socket_filter, ...)")?
                .parse::<ProgType>()?;
            let mut maps = Vec::new();
            for m in &file.map_defs {
                let t = m.map_type.parse::<MapType>()?;
                let spec = asm::types::MapSpec::new(t, m.key_size, m.value_size, m.max_entries)
                    .named(m.name.clone())
                    .with_flags(m.flags);
                maps.push(MapDef::declared(spec));
            }
            Source::Asm {
                insns: assembled.insns,
                prog_type,
                maps,
            }
        }
        _ => return Err("give exactly one of `object` or `asm`".into()),
    };
    Ok(file
        .cases
        .iter()
        .map(|case| CaseResult {
            name: case.name.clone(),
            outcome: match mode {
                Mode::Vm => {
                    run_case(&file, &source, dir, case).map(|(summary, _)| Outcome::Passed(summary))
                }
                Mode::Kernel => run_case_kernel(&file, &source, dir, case)
                    .map(|r| r.map_or_else(Outcome::Skipped, |(s, _)| Outcome::Passed(s))),
                Mode::Both => both(&file, &source, dir, case),
            },
        })
        .collect())
}

fn env_of(decls: [&EnvDecl; 2]) -> Env {
    let mut env = Env::default();
    for d in decls {
        macro_rules! set {
            ($($f:ident => $($target:ident).+),*) => {$(
                if let Some(v) = d.$f.clone() { env.$($target).+ = v; }
            )*};
        }
        set!(pid => pid, tgid => tgid, uid => uid, gid => gid, comm => comm, cpu => cpu,
             ncpus => ncpus, ktime_ns => ktime_ns, mark => skb.mark, priority => skb.priority,
             ifindex => skb.ifindex, hash => skb.hash, vlan_tci => skb.vlan_tci,
             rx_queue_index => xdp_rx_queue_index);
        if let Some(i) = d.ingress_ifindex {
            env.skb.ingress_ifindex = i;
            env.xdp_ingress_ifindex = i;
        }
    }
    env
}

fn run_case(
    file: &File,
    source: &Source,
    dir: &Path,
    case: &Case,
) -> Result<(String, Option<Observed>), Vec<String>> {
    let one = |s: String| vec![s];
    let env = env_of([&file.env, &case.env]);
    let mut t = match source {
        Source::Object(obj) => Test::from_object_env(obj, env.clone()),
        Source::Asm {
            insns,
            prog_type,
            maps,
        } => Test::from_insns_env(insns, *prog_type, maps, env.clone()),
    }
    .map_err(|e| one(e.to_string()))?;
    *t.env_mut() = env;
    if let Some(p) = case.program.as_ref().or(file.program.as_ref()) {
        t.select(p).map_err(|e| one(e.to_string()))?;
    }
    for (name, entries) in file.maps.iter().chain(case.maps.iter()) {
        set_map(&mut t, name, entries).map_err(one)?;
    }
    for (map, slots) in &file.tail_calls {
        for (index, prog) in slots {
            t.set_tail_call(map, *index, prog)
                .map_err(|e| one(e.to_string()))?;
        }
    }
    for (name, v) in &case.globals {
        let size = t.global_bytes(name).map_err(|e| one(e.to_string()))?.len();
        let bytes = encode(v, size, &format!("global `{name}`")).map_err(one)?;
        t.set_global(name, &bytes).map_err(|e| one(e.to_string()))?;
    }
    let packet = match (&case.packet, &case.packet_file) {
        (Some(h), None) => Some(parse_hex(h).map_err(|e| one(format!("packet: {e}")))?),
        (None, Some(f)) => Some(
            std::fs::read(dir.join(f))
                .map_err(|e| one(format!("packet_file {}: {e}", dir.join(f).display())))?,
        ),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(one("give `packet` or `packet_file`, not both".into())),
    };
    if let Some(p) = &packet {
        t.set_packet(p);
    }
    let mut ctx = match &case.ctx {
        Some(h) => parse_hex(h).map_err(|e| one(format!("ctx: {e}")))?,
        None => Vec::new(),
    };
    if !case.regs.is_empty() {
        if t.prog_type() != Some(ProgType::Kprobe) {
            return Err(one("`regs` is for kprobe programs (struct pt_regs)".into()));
        }
        ctx.resize(ctx.len().max(PT_REGS_SIZE), 0);
        for (reg, v) in &case.regs {
            let off = PT_REGS
                .iter()
                .find(|(n, _)| n == reg)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                    one(format!(
                        "unknown pt_regs register `{reg}` (known: {})",
                        PT_REGS.iter().map(|r| r.0).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            ctx[off..off + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    t.set_ctx(&ctx);

    if case.repeat == 0 {
        return Err(one("`repeat` must be at least 1".into()));
    }
    let mut trace = Vec::new();
    let mut records: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut last = None;
    for _ in 0..case.repeat {
        match t.run() {
            Ok(run) => {
                trace.extend(run.trace.iter().cloned());
                for r in &run.records {
                    records
                        .entry(r.map.clone())
                        .or_default()
                        .push(r.data.clone());
                }
                last = Some(Ok(run));
            }
            Err(e) => {
                last = Some(Err(e));
                break;
            }
        }
    }
    let run = match (last.expect("repeat >= 1"), &case.expect.error) {
        (Ok(run), None) => run,
        (Err(e), Some(want)) => {
            let msg = e.to_string();
            return if msg.contains(want.as_str()) {
                Ok((format!("error as expected: {msg}"), None))
            } else {
                Err(one(format!(
                    "error: expected a message containing {want:?}, got {msg:?}"
                )))
            };
        }
        (Ok(run), Some(want)) => {
            return Err(one(format!(
                "error: expected a run error containing {want:?}, but the program returned {}",
                show_ret(run.ret, &run.meaning)
            )))
        }
        (Err(e), None) => return Err(one(format!("run failed: {e}"))),
    };

    let mut bad = Vec::new();
    let x = &case.expect;
    if let Some(want) = &x.ret {
        // BPF_PROG_TEST_RUN reports a 32-bit retval; compare the same bits here, so the
        // file means the same in the VM and in the kernel.
        let ok = match want {
            Scalar::Int(n) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(n) => {
                run.ret as u32 == *n as u32
            }
            Scalar::Int(n) => {
                bad.push(format!("expect.ret: {n} does not fit in 32 bits"));
                true
            }
            Scalar::Hex(s) => run.meaning.as_deref() == Some(s.as_str()),
        };
        if !ok {
            let w = match want {
                Scalar::Int(n) => n.to_string(),
                Scalar::Hex(s) => s.clone(),
            };
            bad.push(format!(
                "ret: expected {w}, got {}",
                show_ret(run.ret, &run.meaning)
            ));
        }
    }
    if let Some(h) = &x.packet {
        match parse_hex(h) {
            Ok(want) if want == run.packet => {}
            Ok(want) => bad.push(format!(
                "packet: expected {}, got {}",
                hex(&want),
                hex(&run.packet)
            )),
            Err(e) => bad.push(format!("expect.packet: {e}")),
        }
    }
    if let Some(want) = &x.trace {
        if *want != trace {
            bad.push(format!("trace: expected {want:?}, got {trace:?}"));
        }
    }
    for (map, want) in &x.ringbuf {
        if t.maps().iter().all(|m| &m.spec.name != map) {
            bad.push(format!("ringbuf: no map named `{map}`"));
            continue;
        }
        let got: Vec<String> = records
            .get(map)
            .map(|rs| rs.iter().map(|r| hex(r)).collect())
            .unwrap_or_default();
        let want_norm: Result<Vec<String>, String> =
            want.iter().map(|h| parse_hex(h).map(|b| hex(&b))).collect();
        match want_norm {
            Ok(w) if w == got => {}
            Ok(w) => bad.push(format!("ringbuf {map}: expected {w:?}, got {got:?}")),
            Err(e) => bad.push(format!("expect.ringbuf.{map}: {e}")),
        }
    }
    for (map, want) in &x.maps {
        if let Err(e) = check_map(&mut t, map, want) {
            bad.push(e);
        }
    }
    for (name, want) in &x.globals {
        match t.global_bytes(name) {
            Ok(got) => match encode(want, got.len(), &format!("global `{name}`")) {
                Ok(w) if w == got => {}
                Ok(w) => bad.push(format!(
                    "global {name}: expected {}, got {}",
                    show(&w),
                    show(&got)
                )),
                Err(e) => bad.push(e),
            },
            Err(e) => bad.push(e.to_string()),
        }
    }
    if let Some(n) = x.insns {
        if n != run.insns {
            bad.push(format!("insns: expected {n}, got {}", run.insns));
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let mut maps = Vec::new();
    for m in t.maps().to_vec() {
        if comparable(m.spec.map_type) {
            let mut e = t
                .map::<Vec<u8>, Vec<u8>>(&m.spec.name)
                .and_then(|r| r.entries())
                .map_err(|e| one(e.to_string()))?;
            e.sort();
            maps.push((m.spec.name.clone(), e));
        }
    }
    Ok((
        format!("{}, {} insns", show_ret(run.ret, &run.meaning), run.insns),
        Some(Observed {
            ret: run.ret as u32,
            packet: run.packet.clone(),
            maps,
        }),
    ))
}

/// What a case's run left behind, to compare the engines with.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    /// The return value's low 32 bits (all `BPF_PROG_TEST_RUN` reports).
    ret: u32,
    /// The packet after the run.
    packet: Vec<u8>,
    /// Contents of the maps both engines can list the same way, sorted by key.
    maps: Vec<(String, MapDump)>,
}

/// A map's (key, value) pairs, sorted.
type MapDump = Vec<(Vec<u8>, Vec<u8>)>;

/// Maps whose contents are compared between the engines: per-CPU maps hold values on
/// whichever CPU the kernel ran the program, and ring buffers, queues and program arrays
/// cannot be listed by key.
fn comparable(t: MapType) -> bool {
    matches!(t, MapType::Array | MapType::Hash | MapType::LruHash)
}

/// `--both`: the case in the VM and in the kernel; each must meet the expectations, and
/// their return values, packets and map contents must agree.
fn both(file: &File, source: &Source, dir: &Path, case: &Case) -> Result<Outcome, Vec<String>> {
    let v = run_case(file, source, dir, case);
    let k = run_case_kernel(file, source, dir, case);
    fn tag(who: &'static str, e: Vec<String>) -> impl Iterator<Item = String> {
        e.into_iter().map(move |l| format!("{who}: {l}"))
    }
    match (v, k) {
        (Err(ve), Err(ke)) => Err(tag("vm", ve).chain(tag("kernel", ke)).collect()),
        (Err(ve), _) => Err(tag("vm", ve).collect()),
        (Ok(_), Err(ke)) => Err(tag("kernel", ke).collect()),
        (Ok((vs, _)), Ok(Err(skip))) => {
            Ok(Outcome::Passed(format!("vm: {vs}; kernel skipped: {skip}")))
        }
        (Ok((vs, vo)), Ok(Ok((ks, ko)))) => {
            let Some(vo) = vo else {
                return Ok(Outcome::Passed(format!("vm: {vs}; kernel: {ks}")));
            };
            let mut d = Vec::new();
            if vo.ret != ko.ret {
                d.push(format!("ret differs: vm {}, kernel {}", vo.ret, ko.ret));
            }
            if vo.packet != ko.packet {
                d.push(format!(
                    "packet differs: vm {}, kernel {}",
                    hex(&vo.packet),
                    hex(&ko.packet)
                ));
            }
            for ((name, a), (_, b)) in vo.maps.iter().zip(&ko.maps) {
                if a != b {
                    let show_all = |e: &MapDump| {
                        e.iter()
                            .map(|(k, v)| format!("{}={}", hex(k), hex(v)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    d.push(format!(
                        "map {name} differs: vm {}, kernel {}",
                        show_all(a),
                        show_all(b)
                    ));
                }
            }
            if d.is_empty() {
                Ok(Outcome::Passed(format!("vm: {vs}; kernel: {ks}")))
            } else {
                Err(d)
            }
        }
    }
}

fn env_is_set(e: &EnvDecl) -> bool {
    let EnvDecl {
        pid,
        tgid,
        uid,
        gid,
        comm,
        cpu,
        ncpus,
        ktime_ns,
        mark,
        priority,
        ingress_ifindex,
        ifindex,
        hash,
        vlan_tci,
        rx_queue_index,
    } = e;
    pid.is_some()
        || tgid.is_some()
        || uid.is_some()
        || gid.is_some()
        || comm.is_some()
        || cpu.is_some()
        || ncpus.is_some()
        || ktime_ns.is_some()
        || mark.is_some()
        || priority.is_some()
        || ingress_ifindex.is_some()
        || ifindex.is_some()
        || hash.is_some()
        || vlan_tci.is_some()
        || rx_queue_index.is_some()
}

/// A kernel case that ran: its summary and what it left; or why it was skipped.
type KernelResult = Result<(String, Observed), String>;

/// Runs a case in the kernel: maps created from the object (global data initialised) or
/// the file's `[[map]]`, filled from `maps`, the program test-run with the packet or
/// context, and the expectations checked against the kernel's results.
fn run_case_kernel(
    file: &File,
    source: &Source,
    dir: &Path,
    case: &Case,
) -> Result<KernelResult, Vec<String>> {
    let one = |s: String| vec![s];
    if case.expect.error.is_some() {
        return Ok(Err("the case expects a VM run error".into()));
    }
    let (insns, prog_type, maps, globals) = match source {
        Source::Object(obj) => {
            let p = match case.program.as_ref().or(file.program.as_ref()) {
                Some(sel) => obj.program(sel).ok_or_else(|| {
                    one(format!(
                        "no program named `{sel}` (programs: {})",
                        obj.programs
                            .iter()
                            .map(|p| format!("{} in `{}`", p.name, p.section))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
                None => obj
                    .programs
                    .first()
                    .ok_or_else(|| one("the object has no programs".into()))?,
            };
            (
                p.insns.clone(),
                p.prog_type,
                obj.maps.clone(),
                obj.globals.clone(),
            )
        }
        Source::Asm {
            insns,
            prog_type,
            maps,
        } => {
            // Text names maps by index with either pseudo source; the kernel backend takes
            // indexes in src 1/2 (it turns them into fds), so map_idx becomes map_fd.
            let mut out = Vec::new();
            for insn in insns {
                let mut insn = *insn;
                if insn.code == 0x18 {
                    match insn.src {
                        5 => insn.src = 1,
                        6 => insn.src = 2,
                        _ => {}
                    }
                }
                out.push(insn);
            }
            (out, *prog_type, maps.clone(), Vec::new())
        }
    };
    if !prog_type.can_test_run() {
        return Ok(Err(format!(
            "{prog_type} programs cannot be test-run in the kernel"
        )));
    }
    if let Some(m) = maps.iter().find(|m| !m.slots.is_empty()) {
        return Ok(Err(format!(
            "program array `{}` is filled with programs by the loader, which the kernel backend does not do",
            m.spec.name
        )));
    }
    if !file.tail_calls.is_empty() {
        return Ok(Err("tail calls are not set up in the kernel".into()));
    }
    if env_is_set(&file.env) || env_is_set(&case.env) {
        return Ok(Err(
            "`env` (task, clock, CPU, skb fields) cannot be set in the kernel".into(),
        ));
    }
    let touched = file
        .maps
        .keys()
        .chain(case.maps.keys())
        .chain(case.expect.maps.keys());
    for name in touched {
        if let Some(m) = maps.iter().find(|m| &m.spec.name == name) {
            if is_percpu(m.spec.map_type) {
                return Ok(Err(format!(
                    "per-CPU map `{name}`: the kernel runs the program on whichever CPU it is on"
                )));
            }
        }
    }
    let inits: Vec<crate::kernel::MapInit> = maps
        .iter()
        .map(|m| crate::kernel::MapInit {
            arg: crate::kernel::MapArg {
                map_type: m.spec.map_type,
                key_size: m.spec.key_size,
                value_size: m.spec.value_size,
                max_entries: m.spec.max_entries,
            },
            flags: m.spec.flags,
            name: m.spec.name.clone(),
            data: m.data.clone(),
        })
        .collect();
    let kmaps =
        crate::kernel::create_kernel_maps(&inits).map_err(|e| one(format!("kernel maps: {e}")))?;
    let find = |name: &str| -> Result<(usize, &MapDef), String> {
        maps.iter()
            .enumerate()
            .find(|(_, m)| m.spec.name == name)
            .ok_or_else(|| {
                format!(
                    "no map named `{name}` (maps: {})",
                    maps.iter()
                        .map(|m| m.spec.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    };
    for (name, entries) in file.maps.iter().chain(case.maps.iter()) {
        let (i, def) = find(name).map_err(one)?;
        for (k, v) in entries {
            let key =
                encode(k, def.spec.key_size as usize, &format!("map `{name}` key")).map_err(one)?;
            let MapValue::One(v) = v else {
                return Err(one(format!(
                    "map `{name}`: a list of values is for per-CPU maps"
                )));
            };
            let value = encode(
                v,
                def.spec.value_size as usize,
                &format!("map `{name}` value"),
            )
            .map_err(one)?;
            kmaps[i]
                .update(&key, &value, ::kernel::map::UpdateFlags::Any)
                .map_err(|e| one(format!("map `{name}`: {e}")))?;
        }
    }
    let global_of = |name: &str| {
        globals
            .iter()
            .find(|g| g.name == name)
            .ok_or_else(|| format!("no global variable `{name}`"))
    };
    for (name, v) in &case.globals {
        let g = global_of(name).map_err(one)?;
        let bytes = encode(v, g.size as usize, &format!("global `{name}`")).map_err(one)?;
        let m = &kmaps[g.map];
        let mut whole = m
            .lookup(&0u32.to_le_bytes())
            .map_err(|e| one(e.to_string()))?
            .unwrap_or_default();
        let range = g.offset as usize..(g.offset + g.size) as usize;
        if whole.len() < range.end {
            return Err(one(format!("global `{name}` lies outside its map's value")));
        }
        whole[range].copy_from_slice(&bytes);
        m.update(&0u32.to_le_bytes(), &whole, ::kernel::map::UpdateFlags::Any)
            .map_err(|e| one(e.to_string()))?;
    }
    let packet = match (&case.packet, &case.packet_file) {
        (Some(h), None) => parse_hex(h).map_err(|e| one(format!("packet: {e}")))?,
        (None, Some(f)) => std::fs::read(dir.join(f))
            .map_err(|e| one(format!("packet_file {}: {e}", dir.join(f).display())))?,
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => return Err(one("give `packet` or `packet_file`, not both".into())),
    };
    if let Some(why) = ::kernel::run::refused_packet(prog_type, &packet) {
        return Ok(Err(why));
    }
    if !case.regs.is_empty() {
        return Err(one("`regs` is for kprobe programs (struct pt_regs)".into()));
    }
    let ctx = match &case.ctx {
        Some(h) => parse_hex(h).map_err(|e| one(format!("ctx: {e}")))?,
        None => Vec::new(),
    };
    if case.repeat == 0 {
        return Err(one("`repeat` must be at least 1".into()));
    }
    let input = ::kernel::run::RunInput {
        prog_type: Some(prog_type),
        packet: &packet,
        ctx: &ctx,
        maps: kmaps.iter().collect(),
        ..Default::default()
    };
    let prepared = ::kernel::run::prepare(&insns, &input).map_err(|e| {
        let mut v = vec![format!("the kernel refused the program: {e}")];
        if let Some(log) = e.verifier_log() {
            v.extend(
                log.lines()
                    .rev()
                    .take(3)
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev(),
            );
        }
        v
    })?;
    let mut out = None;
    for _ in 0..case.repeat {
        out = Some(prepared.run(1).map_err(|e| one(format!("test run: {e}")))?);
    }
    let out = out.expect("repeat >= 1");
    let meaning =
        vm::r0_meaning(prog_type, out.r0).or_else(|| ::kernel::prog::meaning(prog_type, out.r0));
    let ret = out.r0 as u32 as u64;
    let mut bad = Vec::new();
    let x = &case.expect;
    if let Some(want) = &x.ret {
        let ok = match want {
            Scalar::Int(n) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(n) => {
                ret as u32 == *n as u32
            }
            Scalar::Int(n) => {
                bad.push(format!("expect.ret: {n} does not fit in 32 bits"));
                true
            }
            Scalar::Hex(s) => meaning.as_deref() == Some(s.as_str()),
        };
        if !ok {
            let w = match want {
                Scalar::Int(n) => n.to_string(),
                Scalar::Hex(s) => s.clone(),
            };
            bad.push(format!(
                "ret: expected {w}, got {}",
                show_ret(ret, &meaning)
            ));
        }
    }
    if let Some(h) = &x.packet {
        match parse_hex(h) {
            Ok(want) if want == out.data => {}
            Ok(want) => bad.push(format!(
                "packet: expected {}, got {}",
                hex(&want),
                hex(&out.data)
            )),
            Err(e) => bad.push(format!("expect.packet: {e}")),
        }
    }
    for (name, want) in &x.maps {
        let (i, def) = match find(name) {
            Ok(f) => f,
            Err(e) => {
                bad.push(e);
                continue;
            }
        };
        let exact = !matches!(def.spec.map_type, MapType::Array);
        let mut problems = Vec::new();
        let mut keys = Vec::new();
        for (k, v) in want {
            let key = match encode(k, def.spec.key_size as usize, &format!("map `{name}` key")) {
                Ok(k) => k,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let MapValue::One(v) = v else {
                problems.push("a list of values is for per-CPU maps".into());
                continue;
            };
            let value = match encode(
                v,
                def.spec.value_size as usize,
                &format!("map `{name}` value"),
            ) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            match kmaps[i].lookup(&key) {
                Ok(Some(g)) if g == value => {}
                Ok(Some(g)) => problems.push(format!(
                    "key {}: expected {}, got {}",
                    show(&key),
                    show(&value),
                    show(&g)
                )),
                Ok(None) => problems.push(format!(
                    "key {}: expected {}, got no entry",
                    show(&key),
                    show(&value)
                )),
                Err(e) => problems.push(e.to_string()),
            }
            keys.push(key);
        }
        if exact {
            match kmaps[i].entries() {
                Ok(mut all) => {
                    all.sort();
                    for (k, v) in all.into_iter().filter(|(k, _)| !keys.contains(k)) {
                        problems.push(format!(
                            "key {}: expected no entry, got {}",
                            show(&k),
                            show(&v)
                        ));
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        if !problems.is_empty() {
            bad.push(format!("map {name}: {}", problems.join("; ")));
        }
    }
    for (name, want) in &x.globals {
        let got = global_of(name).and_then(|g| {
            let whole = kmaps[g.map]
                .lookup(&0u32.to_le_bytes())
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            whole
                .get(g.offset as usize..(g.offset + g.size) as usize)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("global `{name}` lies outside its map's value"))
        });
        match got {
            Ok(got) => match encode(want, got.len(), &format!("global `{name}`")) {
                Ok(w) if w == got => {}
                Ok(w) => bad.push(format!(
                    "global {name}: expected {}, got {}",
                    show(&w),
                    show(&got)
                )),
                Err(e) => bad.push(e),
            },
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let mut unchecked = Vec::new();
    if x.trace.is_some() {
        unchecked.push("trace");
    }
    if !x.ringbuf.is_empty() {
        unchecked.push("ringbuf");
    }
    if x.insns.is_some() {
        unchecked.push("insns");
    }
    let note = if unchecked.is_empty() {
        String::new()
    } else {
        format!("; not checked in the kernel: {}", unchecked.join(", "))
    };
    let mut dumps = Vec::new();
    for (m, km) in maps.iter().zip(&kmaps) {
        if comparable(m.spec.map_type) {
            let mut e = km
                .entries()
                .map_err(|e| one(format!("map `{}`: {e}", m.spec.name)))?;
            e.sort();
            dumps.push((m.spec.name.clone(), e));
        }
    }
    Ok(Ok((
        format!("{}, {} ns{note}", show_ret(ret, &meaning), out.ns_per_run),
        Observed {
            ret: ret as u32,
            packet: out.data,
            maps: dumps,
        },
    )))
}

fn show_ret(ret: u64, meaning: &Option<String>) -> String {
    match meaning {
        Some(m) if m.starts_with(|c: char| c.is_ascii_uppercase()) => format!("{ret} ({m})"),
        Some(m) if !m.starts_with(&ret.to_string()) => format!("{ret}: {m}"),
        Some(m) => m.clone(),
        None => ret.to_string(),
    }
}

fn map_def(t: &Test, name: &str) -> Result<MapDef, String> {
    t.maps()
        .iter()
        .find(|m| m.spec.name == name)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<_> = t.maps().iter().map(|m| m.spec.name.as_str()).collect();
            format!(
                "no map named `{name}` (maps: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )
        })
}

fn is_percpu(t: MapType) -> bool {
    matches!(
        t,
        MapType::PercpuArray | MapType::PercpuHash | MapType::LruPercpuHash
    )
}

fn set_map(t: &mut Test, name: &str, entries: &Entries) -> Result<(), String> {
    let def = map_def(t, name)?;
    let ncpus = t.env_mut().ncpus as usize;
    for (k, v) in entries {
        let key = encode(k, def.spec.key_size as usize, &format!("map `{name}` key"))?;
        let what = format!("map `{name}` value");
        let value = match v {
            MapValue::One(s) => encode(s, def.spec.value_size as usize, &what)?,
            MapValue::PerCpu(list) if is_percpu(def.spec.map_type) => {
                if list.len() != ncpus {
                    return Err(format!(
                        "{what}: {} per-CPU values for {ncpus} CPUs",
                        list.len()
                    ));
                }
                // BPF_MAP_UPDATE_ELEM takes each CPU's value padded to 8 bytes.
                let stride = (def.spec.value_size as usize).div_ceil(8) * 8;
                let mut all = Vec::new();
                for s in list {
                    let mut b = encode(s, def.spec.value_size as usize, &what)?;
                    b.resize(stride, 0);
                    all.extend(b);
                }
                all
            }
            MapValue::PerCpu(_) => {
                return Err(format!(
                    "{what}: a list of values is for per-CPU maps; `{name}` is a {} map",
                    def.spec.map_type
                ))
            }
        };
        t.map::<Vec<u8>, Vec<u8>>(name)
            .and_then(|mut m| m.set(&key, &value))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Hash maps must hold exactly the listed entries; arrays must hold the listed values at
/// the listed indexes (the other indexes always exist).
fn check_map(t: &mut Test, name: &str, want: &Entries) -> Result<(), String> {
    let def = map_def(t, name)?;
    let percpu = is_percpu(def.spec.map_type);
    let exact = !matches!(def.spec.map_type, MapType::Array | MapType::PercpuArray);
    let mut want_entries = Vec::new();
    for (k, v) in want {
        let key = encode(k, def.spec.key_size as usize, &format!("map `{name}` key"))?;
        let what = format!("map `{name}` value");
        let vals = match v {
            MapValue::One(s) => vec![encode(s, def.spec.value_size as usize, &what)?],
            MapValue::PerCpu(list) if percpu => list
                .iter()
                .map(|s| encode(s, def.spec.value_size as usize, &what))
                .collect::<Result<_, _>>()?,
            MapValue::PerCpu(_) => {
                return Err(format!(
                    "{what}: a list of values is for per-CPU maps; `{name}` is a {} map",
                    def.spec.map_type
                ))
            }
        };
        let per_cpu_list = matches!(v, MapValue::PerCpu(_));
        want_entries.push((key, vals, per_cpu_list));
    }
    let m = t.map::<Vec<u8>, Vec<u8>>(name).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for (key, vals, per_cpu_list) in &want_entries {
        let got = if *per_cpu_list {
            m.get_all_cpus(key)
        } else {
            m.get(key).map(|v| v.map(|v| vec![v]))
        }
        .map_err(|e| e.to_string())?;
        match got {
            Some(g) if g == *vals => {}
            Some(g) => problems.push(format!(
                "key {}: expected {}, got {}",
                show(key),
                show_vals(vals),
                show_vals(&g)
            )),
            None => problems.push(format!(
                "key {}: expected {}, got no entry",
                show(key),
                show_vals(vals)
            )),
        }
    }
    if exact {
        let mut extra: Vec<_> = m
            .entries()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(k, _)| want_entries.iter().all(|(w, _, _)| w != k))
            .collect();
        extra.sort();
        for (k, v) in extra {
            problems.push(format!(
                "key {}: expected no entry, got {}",
                show(&k),
                show(&v)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("map {name}: {}", problems.join("; ")))
    }
}

fn show_vals(v: &[Vec<u8>]) -> String {
    if v.len() == 1 {
        show(&v[0])
    } else {
        format!(
            "[{}]",
            v.iter().map(|b| show(b)).collect::<Vec<_>>().join(", ")
        )
    }
}

/// Bytes as the test file would write them: an integer up to 8 bytes, else hex.
fn show(b: &[u8]) -> String {
    if matches!(b.len(), 1 | 2 | 4 | 8) {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w).to_string()
    } else {
        format!("\"{}\"", hex(b))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex bytes; whitespace and `_` between them are ignored.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    if let Some(bad) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("`{bad}` is not a hex digit in {s:?}"));
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}) in {s:?}",
            digits.len()
        ));
    }
    Ok(digits
        .chunks(2)
        .map(|p| u8::from_str_radix(&p.iter().collect::<String>(), 16).expect("checked hex digits"))
        .collect())
}

/// A scalar as `size` bytes: integers little-endian (range-checked), hex exactly `size`.
fn encode(s: &Scalar, size: usize, what: &str) -> Result<Vec<u8>, String> {
    match s {
        Scalar::Int(n) => {
            if !matches!(size, 1 | 2 | 4 | 8) {
                return Err(format!(
                    "{what} is {size} bytes: write it as a hex string, not an integer"
                ));
            }
            let bits = size as u32 * 8;
            let fits = if bits == 64 {
                true
            } else {
                let n = i128::from(*n);
                n >= -(1i128 << (bits - 1)) && n < (1i128 << bits)
            };
            if !fits {
                return Err(format!("{what}: {n} does not fit in {size} bytes"));
            }
            Ok(n.to_le_bytes()[..size].to_vec())
        }
        Scalar::Hex(h) => {
            let b = parse_hex(h).map_err(|e| format!("{what}: {e}"))?;
            if b.len() != size {
                return Err(format!(
                    "{what}: {} bytes of hex, but it is {size} bytes",
                    b.len()
                ));
            }
            Ok(b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_tests() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/tests")
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_test_file_passes() {
        let files = files_in(&elf_tests());
        assert!(files.len() >= 9, "{files:?}");
        let mut out = Vec::new();
        let (passed, failed) = run_files(&files, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(failed, 0, "{text}");
        assert!(passed >= 25, "{text}");
        assert!(
            text.ends_with(&format!("{passed} passed, 0 failed\n")),
            "{text}"
        );
    }

    #[test]
    fn failing_cases_show_expected_and_actual() {
        let files = files_in(&elf_tests().join("failing"));
        let mut out = Vec::new();
        let (passed, failed) = run_files(&files, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = std::fs::read_to_string(elf_tests().join("failing/expected.txt")).unwrap();
        // Paths differ between machines: compare from the file name on.
        let normalized: String = text
            .lines()
            .map(|l| match l.find("failing/") {
                Some(i) => format!("{}{}\n", &l[..5], &l[i..]),
                None => format!("{l}\n"),
            })
            .collect();
        assert_eq!(normalized, expected);
        assert_eq!((passed, failed), (1, expected.matches("FAIL ").count()));
    }

    #[test]
    fn scalars_are_range_checked() {
        assert_eq!(encode(&Scalar::Int(-1), 2, "k").unwrap(), [0xff, 0xff]);
        assert_eq!(encode(&Scalar::Int(65535), 2, "k").unwrap(), [0xff, 0xff]);
        assert!(encode(&Scalar::Int(65536), 2, "k")
            .unwrap_err()
            .contains("does not fit in 2 bytes"));
        assert!(encode(&Scalar::Int(1), 3, "k")
            .unwrap_err()
            .contains("hex string"));
        assert_eq!(
            encode(&Scalar::Hex("01 02 03".into()), 3, "k").unwrap(),
            [1, 2, 3]
        );
        assert!(encode(&Scalar::Hex("0102".into()), 3, "k")
            .unwrap_err()
            .contains("2 bytes of hex"));
        assert!(parse_hex("0g").unwrap_err().contains("`g`"));
        assert!(parse_hex("012").unwrap_err().contains("odd"));
        assert_eq!(show(&[5, 0, 0, 0]), "5");
        assert_eq!(show(&[1, 2, 3]), "\"010203\"");
    }
}
