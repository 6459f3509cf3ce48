//! Verifier speed: the kernel selftest corpus (`../shared/verifier/cases*.jsonl`, or
//! `BPFX_VERIFIER_CASES`) and a generated 100,000-instruction program.
//!
//! `cargo bench -p bpfx-benches --bench verifier`. Beside bpfx's time, the kernel's own
//! verification time for the same programs is printed: each is loaded with log level 4
//! (`BPF_LOG_STATS`), whose log ends with "verification time N usec". Without bpf() that
//! column is skipped with the reason.

use asm::isa::{AluOp, Cond, Size};
use asm::types::ProgType;
use asm::Insn;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[path = "../../verifier/tests/common/cases.rs"]
mod cases;

fn corpus() -> Option<Vec<(Vec<u8>, verifier::Options)>> {
    let dir = std::env::var("BPFX_VERIFIER_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/verifier")
        });
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).ok()? {
        let p = e.ok()?.path();
        let name = p.file_name()?.to_str()?.to_string();
        if !(name.starts_with("cases") && name.ends_with(".jsonl")) {
            continue;
        }
        for line in std::fs::read_to_string(&p).ok()?.lines() {
            let Ok(c) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if c["kernel_6_18"]["verdict"].is_null() {
                continue;
            }
            if let Ok(x) = cases::prepare(&c) {
                out.push(x);
            }
        }
    }
    Some(out)
}

/// About `n` instructions of blocks that each write a variable stack offset and branch;
/// the fallthrough arm exits at once, so pending branches never pile up (the kernel allows
/// 8192) and exploration stays linear.
fn generated(n: usize) -> Vec<Insn> {
    const BPF_GET_PRANDOM_U32: i32 = 7;
    let mut p = vec![
        Insn::call_helper(BPF_GET_PRANDOM_U32),
        Insn::mov64_reg(6, 0),
        Insn::stx(Size::DW, 10, 6, -8),
    ];
    while p.len() + 12 < n {
        p.extend([
            Insn::ldx(Size::DW, 1, 10, -8),
            Insn::alu64_imm(AluOp::And, 1, 0xff),
            Insn::mov64_reg(2, 10),
            Insn::alu64_imm(AluOp::Add, 2, -264),
            Insn::alu64_reg(AluOp::Add, 2, 1),
            Insn::stx(Size::B, 2, 1, 0),
            Insn::jmp_imm(Cond::Le, 1, 100, 2),
            Insn::mov64_imm(0, 0),
            Insn::exit(),
            Insn::mov64_imm(1, 0),
        ]);
    }
    p.push(Insn::mov64_imm(0, 0));
    p.push(Insn::exit());
    p
}

/// `verification time N usec` from a `BPF_LOG_STATS` log.
fn verification_usec(log: &str) -> Option<u64> {
    log.lines().find_map(|l| {
        l.trim()
            .strip_prefix("verification time ")?
            .strip_suffix(" usec")?
            .parse()
            .ok()
    })
}

/// The kernel's maps for a case, or why they cannot be made (map-in-map templates and
/// BTF-described values need more than `BPF_MAP_CREATE` with sizes).
fn kernel_maps(opts: &verifier::Options) -> Result<Vec<kernel::Map>, String> {
    opts.maps
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if m.inner.is_some()
                || m.value_fields.spin_lock.is_some()
                || m.value_fields.timer.is_some()
            {
                return Err(format!("map {i} needs an inner map or BTF"));
            }
            kernel::Map::create(
                &kernel::MapSpec::new(m.map_type, m.key_size, m.value_size, m.max_entries)
                    .with_flags(m.flags)
                    .named(format!("bench{i}")),
            )
            .map_err(|e| format!("map {i}: {e}"))
        })
        .collect()
}

/// Kernel verification time (µs, from the log) and wall time of the load syscall, for one
/// program whatever the verdict; `Err` when the kernel gives no figure.
fn kernel_time(
    insns: &[Insn],
    opts: &verifier::Options,
) -> Result<(u64, Duration, String), String> {
    let maps = kernel_maps(opts)?;
    let mut load = kernel::LoadOptions::new(opts.prog_type);
    load.maps = maps.iter().collect();
    load.log_level = kernel::LogLevel::Stats;
    load.expected_attach_type = opts
        .expected_attach_type
        .and_then(kernel::AttachType::from_number);
    // BPF_F_STRICT_ALIGNMENT, BPF_F_ANY_ALIGNMENT, BPF_F_TEST_STATE_FREQ.
    load.flags = opts.strict_alignment as u32
        | (opts.any_alignment as u32) << 1
        | (opts.test_state_freq as u32) << 3;
    let t = Instant::now();
    let r = kernel::Program::load(insns, &load);
    let wall = t.elapsed();
    let (log, verdict) = match &r {
        Ok(p) => (p.log().to_string(), "accepted".to_string()),
        Err(e) if e.is_unavailable() => return Err(e.to_string()),
        Err(e) => (
            e.verifier_log().unwrap_or("").to_string(),
            format!("rejected: {e}"),
        ),
    };
    // The statistics line ("processed N insns ... total_states N ...") says how much
    // work the kernel did for that time.
    let stats = log
        .lines()
        .find(|l| l.starts_with("processed "))
        .unwrap_or("");
    verification_usec(&log)
        .map(|us| (us, wall, format!("{verdict}; {stats}")))
        .ok_or_else(|| "no verification time in the log".to_string())
}

/// bpfx's mean time over `runs` passes of `f`.
fn mean_time(runs: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    t.elapsed() / runs
}

fn kernel_corpus_column(cs: &[(Vec<u8>, verifier::Options)]) {
    if let Err(why) = kernel::probe::availability() {
        println!("kernel column skipped: kernel unavailable ({why})");
        return;
    }
    let mut same = Vec::new();
    let (mut k_us, mut k_wall, mut skipped) = (0u64, Duration::ZERO, 0usize);
    for (bytes, opts) in cs {
        let Ok(decoded) = asm::decode(bytes) else {
            skipped += 1;
            continue;
        };
        let insns: Vec<Insn> = decoded.into_iter().map(|d| d.insn).collect();
        match kernel_time(&insns, opts) {
            Ok((us, wall, _)) => {
                k_us += us;
                k_wall += wall;
                same.push((bytes, opts));
            }
            Err(_) => skipped += 1,
        }
    }
    let ours = mean_time(5, || {
        for (bytes, opts) in &same {
            std::hint::black_box(verifier::verify_bytes(bytes, opts).is_ok());
        }
    });
    println!(
        "selftest corpus, {} programs the kernel reports a time for ({skipped} skipped: maps needing BTF or inner maps, undecodable bytes):\n  bpfx   {:>10.3} ms (mean of 5 passes)\n  kernel {:>10.3} ms verification time (BPF_LOG_STATS), {:.3} ms BPF_PROG_LOAD wall time",
        same.len(),
        ours.as_secs_f64() * 1e3,
        k_us as f64 / 1e3,
        k_wall.as_secs_f64() * 1e3
    );
}

fn kernel_generated_column(prog: &[Insn], opts: &verifier::Options) {
    if let Err(why) = kernel::probe::availability() {
        println!("kernel column skipped: kernel unavailable ({why})");
        return;
    }
    let ours = mean_time(5, || {
        std::hint::black_box(verifier::verify(prog, opts).is_ok());
    });
    match kernel_time(prog, opts) {
        Ok((us, wall, what)) => println!(
            "generated program, {} instructions:\n  bpfx   {:>10.3} ms (mean of 5 runs)\n  kernel {:>10.3} ms verification time (BPF_LOG_STATS), {:.3} ms BPF_PROG_LOAD wall time\n  kernel {what}",
            prog.len(),
            ours.as_secs_f64() * 1e3,
            us as f64 / 1e3,
            wall.as_secs_f64() * 1e3
        ),
        Err(why) => println!("kernel column skipped for the generated program: {why}"),
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("verifier");
    g.measurement_time(Duration::from_secs(10));
    g.sample_size(10);
    match corpus() {
        Some(cs) if !cs.is_empty() => {
            let insns: usize = cs.iter().map(|(b, _)| b.len() / 8).sum();
            g.throughput(Throughput::Elements(cs.len() as u64));
            println!(
                "selftest corpus: {} programs, {insns} instructions",
                cs.len()
            );
            kernel_corpus_column(&cs);
            g.bench_function("selftest_corpus", |b| {
                b.iter(|| {
                    let mut accepted = 0;
                    for (bytes, opts) in &cs {
                        accepted += verifier::verify_bytes(bytes, opts).is_ok() as usize;
                    }
                    accepted
                })
            });
        }
        _ => println!("skipped: selftest corpus (no ../shared/verifier/cases*.jsonl)"),
    }
    let prog = generated(100_000);
    let opts = verifier::Options::new(ProgType::SocketFilter);
    let stats = match verifier::verify(&prog, &opts) {
        Ok(s) => s,
        Err(e) => panic!(
            "the generated program must verify: {} at {}",
            e.message, e.insn
        ),
    };
    println!(
        "generated program: {} instructions, {} processed, {} states",
        prog.len(),
        stats.processed,
        stats.total_states
    );
    kernel_generated_column(&prog, &opts);
    g.throughput(Throughput::Elements(prog.len() as u64));
    g.bench_function("generated_100k", |b| {
        b.iter(|| verifier::verify(&prog, &opts).map(|a| a.processed))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
