//! The bpf_conformance suite (313 programs) through the golden program bytes, so no
//! assembler is needed: every program must give the expected r0.

use std::path::PathBuf;

use test_support::hex;

fn golden() -> Option<PathBuf> {
    test_support::corpus_file(
        "BPFX_CONFORMANCE_GOLDEN",
        "conformance/bpf_conformance/golden/tests.jsonl",
    )
}

#[test]
fn bpf_conformance_golden() {
    let Some(path) = golden() else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let (mut passed, mut failed) = (0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = v["file"].as_str().unwrap().to_string();
        let prog = hex(v["prog"].as_str().unwrap());
        let mem = hex(v["mem"].as_str().unwrap_or(""));
        let result = v["result"].as_str().unwrap_or("");
        let error = v["error"].as_str().unwrap_or("");
        let got = vm::run_plain(&prog, &mem);
        let ok = match (result, &got) {
            ("", Err(_)) if !error.is_empty() => true,
            (r, Ok(v)) if !r.is_empty() => {
                u64::from_str_radix(r.trim_start_matches("0x"), 16).ok() == Some(*v)
            }
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failed.push(format!("{file}: expected {result}{error}, got {got:?}"));
        }
    }
    println!("{passed} passed, {} failed", failed.len());
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(passed, 313);
}

/// The benchmark programs are kept as ubpf text and raw bytes; they must stay the same
/// program, and give the same answer on every run.
#[test]
fn bench_programs_match_their_text() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/bench");
    for (name, mem, insns) in [
        ("alu_loop", vec![], 10_000_003),
        ("mem_loop", vec![1u8; 4096], 262_339),
        (
            "packet_parse",
            std::fs::read(dir.join("packet.bin")).unwrap(),
            20_733,
        ),
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.asm"))).unwrap();
        let bin = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
        let a = asm::text::assemble(&text, asm::Dialect::Ubpf).unwrap();
        assert_eq!(a.bytes(), bin, "{name}.asm and {name}.bin differ");
        let mut m = vm::Vm::new();
        m.set_budget(u64::MAX);
        let id = m.load(&bin, None).unwrap();
        m.set_mem(mem.clone());
        let out = m.run(id).unwrap();
        assert_eq!(out.insns, insns, "{name}");
        if name == "packet_parse" {
            // The packet comes back as it was, so repeated runs measure the same work.
            assert_eq!(m.mem(), &mem[..]);
            assert_eq!(m.run(id).unwrap(), out);
        }
    }
}
