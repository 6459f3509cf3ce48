//! The ubpf files of the shared bad-input corpus (`testdata/asm/bad/*.ubpf`): each is
//! rejected with diagnostics that point into the text; the rendered list is a snapshot.

use asm::diag::LineIndex;
use asm::text::{assemble, Dialect};
use std::path::Path;

#[test]
fn bad_ubpf_inputs_are_rejected_with_located_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/asm/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ubpf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .ubpf files in {}", dir.display());
    let mut report = String::new();
    for path in &files {
        let src = std::fs::read_to_string(path).expect("readable");
        let name = path.file_name().unwrap().to_string_lossy();
        let ds = assemble(&src, Dialect::Ubpf).expect_err(&name);
        assert!(!ds.is_empty());
        let index = LineIndex::new(&src);
        for d in &ds {
            assert!(
                d.span.end <= src.len() && d.span.start <= d.span.end,
                "{name}: {d:?}"
            );
            let (line, col) = index.line_col(d.span.start);
            report.push_str(&format!(
                "{name}:{line}:{col}: `{}`: {d}",
                &src[d.span.range()]
            ));
            if let Some(h) = &d.help {
                report.push_str(&format!("\n    help: {h}"));
            }
            report.push('\n');
        }
    }
    insta::assert_snapshot!(report);
}
