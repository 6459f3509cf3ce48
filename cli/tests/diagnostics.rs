//! Rendered diagnostics for bad inputs: every file in `testdata/asm/bad/` is assembled by the
//! real binary with `--color never`; stderr and the exit status are snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bad_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/asm/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn bad_inputs_are_rejected_with_rendered_diagnostics() {
    let files = bad_inputs();
    assert!(
        files.len() >= 30,
        "expected at least 30 bad inputs, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dialect = if name.ends_with(".ubpf") {
            "ubpf"
        } else {
            "llvm"
        };
        let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
            .current_dir(path.parent().unwrap())
            .args([
                "--color",
                "never",
                "asm",
                "--format",
                "hex",
                "--dialect",
                dialect,
                &name,
            ])
            .output()
            .expect("bpfx runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: expected rejection, got {:?}\n{stderr}",
            out.status
        );
        assert!(out.stdout.is_empty(), "{name}: no output on rejection");
        insta::assert_snapshot!(
            name.replace('.', "_"),
            format!("exit: {:?}\n{stderr}", out.status.code())
        );
    }
}
