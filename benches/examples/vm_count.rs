//! Runs one bench program a few times in bpfx's VM (or rbpf's), for instruction-count
//! profiling under `valgrind --tool=callgrind`, which is deterministic where wall time on a
//! shared machine is not: `vm_count <alu_loop|mem_loop|packet_parse> [runs] [rbpf]`.
//! With `time` as the third argument it alternates bpfx and rbpf runs and prints the best
//! ns per instruction of each (the minimum is the figure least disturbed by other load).

use std::path::PathBuf;

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/bench")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("alu_loop");
    let runs: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let use_rbpf = args.get(3).is_some_and(|s| s == "rbpf");
    let timing = args.get(3).is_some_and(|s| s == "time");
    let prog = data(&format!("{name}.bin"));
    let mem = match name {
        "mem_loop" => vec![1u8; 4096],
        "packet_parse" => data("packet.bin"),
        _ => Vec::new(),
    };
    if timing {
        let mut m = vm::Vm::new();
        m.set_budget(u64::MAX);
        let id = m.load(&prog, None).expect("load");
        m.set_mem(mem.clone());
        let insns = m.run(id).expect("run").insns as f64;
        let r = rbpf::EbpfVmRaw::new(Some(&prog)).expect("rbpf load");
        let mut rmem = mem;
        let (mut best_b, mut best_r) = (f64::MAX, f64::MAX);
        for _ in 0..runs {
            let t = std::time::Instant::now();
            m.run(id).expect("run");
            best_b = best_b.min(t.elapsed().as_nanos() as f64 / insns);
            let t = std::time::Instant::now();
            r.execute_program(&mut rmem).expect("rbpf run");
            best_r = best_r.min(t.elapsed().as_nanos() as f64 / insns);
        }
        println!(
            "{name}: bpfx {best_b:.3} ns/insn, rbpf {best_r:.3} ns/insn, ratio {:.2}x",
            best_r / best_b
        );
        return;
    }
    if use_rbpf {
        let r = rbpf::EbpfVmRaw::new(Some(&prog)).expect("rbpf load");
        let mut mem = mem;
        let mut r0 = 0;
        for _ in 0..runs {
            r0 = r.execute_program(&mut mem).expect("rbpf run");
        }
        println!("{name}: r0={r0:#x}");
        return;
    }
    let mut m = vm::Vm::new();
    m.set_budget(u64::MAX);
    let id = m.load(&prog, None).expect("load");
    m.set_mem(mem);
    let mut insns = 0;
    let mut r0 = 0;
    for _ in 0..runs {
        let out = m.run(id).expect("run");
        insns += out.insns;
        r0 = out.r0;
    }
    println!("{name}: r0={r0:#x} bpf_insns={insns}");
}
