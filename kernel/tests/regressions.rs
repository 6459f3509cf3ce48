//! Every program in `testdata/regressions/` must give the same r0, memory and map contents
//! in the VM and in the kernel (see that folder's README).

mod common;

use common::diff;

#[test]
fn regressions_agree() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression programs in {}",
        dir.display()
    );
    // Parsing is checked even without a kernel.
    let progs: Vec<_> = files
        .iter()
        .map(|f| {
            (
                f,
                diff::from_hex(&std::fs::read_to_string(f).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display())),
            )
        })
        .collect();
    if !common::kernel_available("regressions_agree") {
        return;
    }
    let mut failures = Vec::new();
    for (f, prog) in &progs {
        if let Err(e) = diff::compare(prog) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("regressions: {} programs agree", progs.len());
}

#[test]
fn division_edge_cases_follow_linux() {
    if !common::kernel_available("division_edge_cases_follow_linux") {
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/regressions");
    let prog =
        diff::from_hex(&std::fs::read_to_string(dir.join("div-by-zero-and-overflow.hex")).unwrap())
            .unwrap();
    // INT64_MIN s/ -1 = INT64_MIN; w3 = 0x1_0000_0005 % 0 = 5 (truncated); 7 / 0 = 0.
    assert_eq!(diff::run_kernel(&prog).unwrap().r0, 0x8000_0000_0000_0005);
    assert_eq!(diff::run_vm(&prog).unwrap().r0, 0x8000_0000_0000_0005);
}
