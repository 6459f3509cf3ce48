//! bpfx's interpreter side by side with rbpf's on the programs in `testdata/bench/`,
//! reporting ns per executed instruction. Criterion measures each; a summary table with the
//! ratio is printed at the end.

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
    let id = m.load(&case.prog, vm::ProgType::Plain).expect("load");
    m.set_mem(case.mem.clone());
    (m, id)
}

/// Executed instructions per run and r0, from bpfx; rbpf must agree on r0.
fn check(case: &Case) -> u64 {
    let (mut m, id) = bpfx_vm(case);
    let out = m.run(id).expect("bpfx run");
    let r = rbpf::EbpfVmRaw::new(Some(&case.prog)).expect("rbpf load");
    let mut mem = case.mem.clone();
    let r0 = r.execute_program(&mut mem).expect("rbpf run");
    assert_eq!(out.r0, r0, "{}: bpfx and rbpf disagree", case.name);
    out.insns
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
        let insns = check(&case);
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
        table.push((case.name, insns, bpfx_ns, rbpf_ns));
    }
    println!(
        "\n{:<14} {:>12} {:>14} {:>14} {:>8}",
        "program", "insns/run", "bpfx ns/insn", "rbpf ns/insn", "ratio"
    );
    for (name, insns, b, r) in table {
        println!("{name:<14} {insns:>12} {b:>14.3} {r:>14.3} {:>7.2}x", r / b);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
