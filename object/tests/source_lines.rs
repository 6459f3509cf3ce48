//! `obj::Program::source_line`: instruction slot → C file, line, column and text, from
//! `.BTF.ext` line info. `testdata/elf/lines/source_lines.bpf.c` is compiled with
//! clang-19 (skipped, visibly, without it).

use std::process::Command;

#[test]
fn slots_map_to_their_c_lines() {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/elf/lines/source_lines.bpf.c"
    );
    let out = std::env::temp_dir().join(format!("bpfx-obj-lines-{}.o", std::process::id()));
    match Command::new("clang-19")
        .args(["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-c", src, "-o"])
        .arg(&out)
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("clang-19 failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            println!("skipped: clang-19 is not available ({e})");
            return;
        }
    }
    let o = obj::Object::parse(&std::fs::read(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    let p = o.program("read_past_end").unwrap();
    let l0 = p.source_line(0).unwrap();
    assert!(l0.file.ends_with("source_lines.bpf.c"), "{l0:?}");
    assert_eq!(
        (l0.line, l0.text.as_str()),
        (9, "__u8 *data = (__u8 *)(long)ctx->data;")
    );
    let l1 = p.source_line(1).unwrap();
    assert_eq!((l1.line, l1.col), (11, 9));
    assert_eq!(
        l1.to_string(),
        "source_lines.bpf.c:11: return data[64]; /* no bounds check */"
    );
    // The exit shares line 11's record; past the end there is none.
    assert_eq!(p.source_line(2).map(|l| l.line), Some(11));
    assert_eq!(p.source_line(3), None);
    // A `?` section (not loaded by default) keeps its line info.
    let opt = o.program("optional").unwrap();
    assert_eq!(opt.section, "xdp");
    assert_eq!(opt.source_line(0).map(|l| l.line), Some(18));
    assert_eq!(opt.ext.func_info.len(), 1);
    // Without .BTF.ext there are no lines.
    let mut bare = p.clone();
    bare.ext = Default::default();
    assert_eq!(bare.source_line(1), None);
}
