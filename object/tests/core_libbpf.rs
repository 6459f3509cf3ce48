//! bpfx's CO-RE relocations of testdata/elf/core_kernel.bpf.o against the running
//! kernel's BTF, compared with libbpf's: `bpftool -d prog load` prints each relocation
//! libbpf applies (`patched insn #N ... A -> B`, `substituting insn #N w/ invalid insn`).
//! Prints `skipped:` without bpftool, root, bpffs or /sys/kernel/btf/vmlinux.

use obj::core::Outcome;
use std::collections::BTreeMap;
use std::process::Command;

/// What libbpf did at each instruction: `Some(value)` patched, `None` poisoned.
fn libbpf_relocs(obj_path: &str) -> Result<BTreeMap<usize, Option<u64>>, String> {
    let pin = format!("/sys/fs/bpf/bpfx_core_test_{}", std::process::id());
    let out = Command::new("bpftool")
        .args(["-d", "prog", "load", obj_path, &pin])
        .output()
        .map_err(|e| format!("bpftool: {e}"))?;
    let _ = std::fs::remove_file(&pin);
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut map = BTreeMap::new();
    for line in log.lines() {
        let Some(rest) = line.split("patched insn #").nth(1) else {
            if let Some(rest) = line.split("substituting insn #").nth(1) {
                let n: usize = rest.split(' ').next().unwrap().parse().unwrap();
                map.insert(n, None);
            }
            continue;
        };
        let n: usize = rest.split(' ').next().unwrap().parse().unwrap();
        let v: u64 = rest.rsplit(' ').next().unwrap().parse().unwrap();
        map.insert(n, Some(v));
    }
    if map.is_empty() {
        return Err(format!(
            "no relocation in bpftool's output (not root?): {}",
            log.lines().last().unwrap_or("")
        ));
    }
    Ok(map)
}

#[test]
fn same_relocations_as_libbpf_on_this_kernel() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/elf/core_kernel.bpf.o"
    );
    let target = match obj::core::kernel_btf() {
        Ok(t) => t,
        Err(e) => return println!("skipped: {e}"),
    };
    let want = match libbpf_relocs(path) {
        Ok(m) => m,
        Err(e) => return println!("skipped: {e}"),
    };
    let mut o = obj::Object::parse(&std::fs::read(path).unwrap()).unwrap();
    let got: BTreeMap<usize, Option<u64>> = o
        .relocate_core(&target)
        .into_iter()
        .map(|r| match r.outcome {
            Outcome::Patched => (r.insn, r.target_value),
            Outcome::Poisoned(_) => (r.insn, None),
            Outcome::Failed(e) => panic!("insn {}: {e}", r.insn),
        })
        .collect();
    assert_eq!(got, want);
    assert!(
        want.values().any(Option::is_none),
        "the missing field is poisoned"
    );
}
