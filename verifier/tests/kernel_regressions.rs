//! Every program in `testdata/regressions/verifier/` (written by `kernel_differential.rs`
//! when bpfx and the kernel disagreed on a verdict) must now get the kernel's recorded
//! verdict from bpfx. Where bpf() is usable, the kernel is asked again too, so a file
//! whose recorded verdict no longer matches the running kernel is reported.

#[path = "common/kdiff.rs"]
mod kdiff;

fn files() -> Vec<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/regressions/verifier");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

#[test]
fn bpfx_gives_the_recorded_kernel_verdict() {
    let files = files();
    assert!(!files.is_empty(), "no regression programs");
    let mut failures = Vec::new();
    for f in &files {
        let r = kdiff::parse_regression(&std::fs::read_to_string(f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        match kdiff::bpfx(&r.prog, r.prog_type) {
            Ok(v) if v.accepted() == r.kernel.accepted() => {}
            Ok(v) => failures.push(format!(
                "{}: kernel {}, bpfx {}",
                f.display(),
                r.kernel.render(),
                v.render()
            )),
            Err(why) => failures.push(format!("{}: bpfx declines: {why}", f.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "verifier regressions: {} programs agree with the recorded kernel verdict",
        files.len()
    );
}

#[test]
fn recorded_verdicts_are_the_running_kernels() {
    if let Err(reason) = kernel::probe::availability() {
        println!("skipped: kernel unavailable ({reason})");
        return;
    }
    let maps = kdiff::kernel_maps().expect("maps");
    for f in files() {
        let r = kdiff::parse_regression(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let now = kdiff::kernel(&r.prog, r.prog_type, &maps).expect("kernel");
        assert_eq!(
            now.accepted(),
            r.kernel.accepted(),
            "{}: recorded {}, the kernel now says {}",
            f.display(),
            r.kernel.render(),
            now.render()
        );
    }
}

#[test]
fn regression_files_round_trip() {
    let r = kdiff::Regression {
        prog_type: asm::types::ProgType::Xdp,
        kernel: kdiff::Verdict::Reject {
            errno: 13,
            message: "R2 !read_ok".into(),
        },
        bpfx_then: kdiff::Verdict::Accept,
        prog: vec![asm::Insn::ld_map_fd(1, 1), asm::Insn::exit()],
    };
    let text = kdiff::render_regression(&r, "a note\nover two lines");
    assert_eq!(kdiff::parse_regression(&text), Ok(r));
    assert!(kdiff::parse_regression("type: xdp\n")
        .unwrap_err()
        .contains("maps"));
    let bad = text.replace("kernel: reject 13", "kernel: reject x");
    assert!(kdiff::parse_regression(&bad)
        .unwrap_err()
        .contains("errno `x`"));
}
