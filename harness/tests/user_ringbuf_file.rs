//! The `user_ringbuf` case input (records user space submits to a `user_ringbuf` map) in
//! the VM: `tests/cases/user_ringbuf.toml`, and the errors bad input gets
//! (`tests/cases/user_ringbuf_errors.toml`).

use harness::{run_file, Mode, Status};
use std::path::Path;

fn run(name: &str) -> Vec<(String, Status)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name);
    let report = run_file(&path, Mode::Vm, None);
    let cases = report.cases.unwrap_or_else(|e| panic!("{e}"));
    cases.into_iter().map(|c| (c.name, c.status)).collect()
}

#[test]
fn user_ringbuf_cases_pass_in_the_vm() {
    let got = run("user_ringbuf.toml");
    assert_eq!(got.len(), 4);
    for (name, status) in got {
        assert!(matches!(status, Status::Passed(_)), "{name}: {status:?}");
    }
}

#[test]
fn bad_user_ringbuf_input_is_a_clear_error() {
    let got = run("user_ringbuf_errors.toml");
    let want = [
        (
            "no such map",
            "user_ringbuf: no map named `output` (maps: input)",
        ),
        ("not hex", "user_ringbuf.input[0]:"),
    ];
    assert_eq!(got.len(), want.len());
    for ((name, status), (want_name, want_text)) in got.iter().zip(want) {
        assert_eq!(name, want_name);
        let Status::Failed(lines) = status else {
            panic!("{name}: {status:?}");
        };
        assert!(
            lines.iter().any(|l| l.contains(want_text)),
            "{name}: {lines:?}"
        );
    }
}
