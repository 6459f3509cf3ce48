//! bpfx's interpreter side by side with rbpf's and with the kernel's JIT on the programs in
//! `testdata/bench/`, reporting ns per executed instruction. Criterion measures each; a
//! summary table with the ratios is printed at the end.
//!
//! The kernel runs each program through `BPF_PROG_TEST_RUN` with a repeat count and its own
//! duration measure (`bpf_test_timer`), inside bpfx's wrapper (a few instructions per run).
//! Its per-instruction figure divides by the instruction count bpfx's VM executed. Where the
//! kernel cannot run a program the column says why (it needs root; the verifier must accept
//! the program).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    prog: Vec<u8>,
    mem: Vec<u8>,
}

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/bench")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "alu_loop",
            prog: data("alu_loop.bin"),
            mem: Vec::new(),
        },
        Case {
            name: "mem_loop",
            prog: data("mem_loop.bin"),
            mem: vec![1u8; 4096],
        },
        Case {
            name: "packet_parse",
            prog: data("packet_parse.bin"),
            mem: data("packet.bin"),
        },
    ]
}

fn bpfx_vm(case: &Case) -> (vm::Vm, vm::ProgId) {
    let mut m = vm::Vm::new();
    m.set_budget(u64::MAX);
    let id = m.load(&case.prog, None).expect("load");
    m.set_mem(case.mem.clone());
    (m, id)
}

/// Executed instructions per run and r0, from bpfx; rbpf must agree on r0.
fn check(case: &Case) -> (u64, u64) {
    let (mut m, id) = bpfx_vm(case);
    let out = m.run(id).expect("bpfx run");
    let r = rbpf::EbpfVmRaw::new(Some(&case.prog)).expect("rbpf load");
    let mut mem = case.mem.clone();
    let r0 = r.execute_program(&mut mem).expect("rbpf run");
    assert_eq!(out.r0, r0, "{}: bpfx and rbpf disagree", case.name);
    (out.insns, out.r0)
}

/// The kernel's mean ns per run, or why it cannot run the case.
fn kernel_prepare(case: &Case, expect_r0: u64) -> Result<kernel::run::Prepared, String> {
    kernel::probe::availability().map_err(|e| format!("kernel unavailable: {e}"))?;
    let prog: Vec<asm::Insn> = asm::decode(&case.prog)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|d| d.insn)
        .collect();
    // packet_parse checks its bounds against r1 + 64, not against data_end, which the
    // verifier cannot follow on a packet; in a map value (padded so the largest offset the
    // verifier can derive stays inside) the accesses are bounded by the value size.
    let mut mem = case.mem.clone();
    if case.name == "packet_parse" {
        mem.resize(256, 0);
    }
    let input = kernel::run::RunInput {
        mem: &mem,
        mem_in_map: true,
        ..Default::default()
    };
    let p = kernel::run::prepare(&prog, &input).map_err(|e| match e.verifier_log() {
        Some(_) => format!("rejected: {e}"),
        None => e.to_string(),
    })?;
    let out = p.run(1).map_err(|e| e.to_string())?;
    assert_eq!(
        out.r0, expect_r0,
        "{}: bpfx and the kernel disagree",
        case.name
    );
    Ok(p)
}

/// Mean ns per run as the kernel measures it, with enough repetitions for `budget`.
fn kernel_ns(p: &kernel::run::Prepared, budget: Duration) -> f64 {
    let probe = p.run(10).expect("kernel run").ns_per_run.max(1) as f64;
    let repeat = (budget.as_nanos() as f64 / probe).clamp(10.0, 1e6) as u32;
    p.run(repeat).expect("kernel run").ns_per_run as f64
}

fn time_per_run(mut f: impl FnMut(), budget: Duration) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget || n < 3 {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn bench(c: &mut Criterion) {
    let mut table = Vec::new();
    for case in cases() {
        let (insns, r0) = check(&case);
        let kernel = kernel_prepare(&case, r0);
        let mut g = c.benchmark_group(case.name);
        g.throughput(Throughput::Elements(insns));
        g.sample_size(10);
        let (mut m, id) = bpfx_vm(&case);
        g.bench_function(BenchmarkId::new("bpfx", insns), |b| {
            b.iter(|| m.run(id).unwrap().r0)
        });
        let r = rbpf::EbpfVmRaw::new(Some(&case.prog)).unwrap();
        let mut mem = case.mem.clone();
        g.bench_function(BenchmarkId::new("rbpf", insns), |b| {
            b.iter(|| r.execute_program(&mut mem).unwrap())
        });
        if let Ok(p) = &kernel {
            // The kernel's own clock for `iters` back-to-back runs.
            g.bench_function(BenchmarkId::new("kernel", insns), |b| {
                b.iter_custom(|iters| {
                    let n = iters.clamp(1, u32::MAX as u64) as u32;
                    let out = p.run(n).expect("kernel run");
                    Duration::from_nanos(out.ns_per_run as u64 * iters)
                })
            });
        }
        g.finish();

        // The summary: the two interpreters timed back to back (BPFX_BENCH_SUMMARY=0 skips it).
        if std::env::var_os("BPFX_BENCH_SUMMARY").is_some_and(|v| v == "0") {
            continue;
        }
        let budget = Duration::from_millis(700);
        let bpfx_ns = time_per_run(
            || {
                m.run(id).unwrap();
            },
            budget,
        ) / insns as f64;
        let mut mem = case.mem.clone();
        let rbpf_ns = time_per_run(
            || {
                r.execute_program(&mut mem).unwrap();
            },
            budget,
        ) / insns as f64;
        let kernel_ns_insn = kernel
            .as_ref()
            .map(|p| kernel_ns(p, budget) / insns as f64)
            .map_err(String::clone);
        table.push((case.name, insns, bpfx_ns, rbpf_ns, kernel_ns_insn));
    }
    println!(
        "\n{:<14} {:>12} {:>14} {:>14} {:>8} {:>16} {:>12}",
        "program",
        "insns/run",
        "bpfx ns/insn",
        "rbpf ns/insn",
        "rbpf/bpfx",
        "kernel ns/insn",
        "bpfx/kernel"
    );
    let mut notes = Vec::new();
    for (name, insns, b, r, k) in table {
        let (k_ns, k_ratio) = match &k {
            Ok(k) => (format!("{k:.3}"), format!("{:.1}x", b / k)),
            Err(why) => {
                notes.push(format!("{name}: kernel: {why}"));
                ("n/a".to_string(), "n/a".to_string())
            }
        };
        println!(
            "{name:<14} {insns:>12} {b:>14.3} {r:>14.3} {:>7.2}x {k_ns:>16} {k_ratio:>12}",
            r / b
        );
    }
    for n in notes {
        println!("  {n}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
