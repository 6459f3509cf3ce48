//! `docs/helpers.md` is generated from the helper table (`asm::types::helpers`), the VM's
//! built-ins (`vm::helper_implemented`) and the verifier's prototypes
//! (`verifier::helpers::Proto::fully_modelled`). This test fails when the file is stale;
//! `BPFX_BLESS=1` rewrites it.

use asm::types::helpers::{self, ProgSet};
use asm::types::ProgType;
use std::fmt::Write;
use std::path::PathBuf;

/// The program types of a set, shortest description first: "all", "all but ...", a list.
fn types(set: ProgSet) -> String {
    let all: Vec<ProgType> = ProgSet::ALL.iter().collect();
    let inside: Vec<ProgType> = set.iter().collect();
    let missing: Vec<String> = all
        .iter()
        .filter(|t| !set.contains(**t))
        .map(|t| t.name().to_string())
        .collect();
    if missing.is_empty() {
        "all".to_string()
    } else if inside.is_empty() {
        "none".to_string()
    } else if missing.len() < inside.len() {
        format!("all but {}", missing.join(", "))
    } else {
        inside
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# BPF helpers\n\n\
         Generated from the helper table (`asm/src/types/helpers/`) by\n\
         `harness/tests/helper_table.rs`; do not edit (`BPFX_BLESS=1 cargo test -p bpfx-harness\n\
         --test helper_table` rewrites it).\n\n\
         - **GPL**: `gpl_only` (refused to programs whose licence is not GPL-compatible).\n\
         - **program types**: the types whose `*_func_proto` offers the helper on Linux 6.18\n  \
         (`ext` takes its target's set).\n\
         - **VM**: the VM has a built-in implementation.\n\
         - **verifier**: bpfx's verifier checks every argument and the return value; ✗ means\n  \
         it declines calls as unsupported (BTF pointers, dynptrs, callbacks, ...).\n\n\
         | id | name | GPL | program types | VM | verifier |\n\
         |---:|---|:-:|---|:-:|:-:|\n",
    );
    let mark = |b: bool| if b { "✓" } else { "✗" };
    for h in helpers::all() {
        let modelled = verifier::helpers::proto(h.id)
            .is_some_and(|p| p.fully_modelled() && !p.args.contains(&verifier::helpers::Arg::Func));
        let _ = writeln!(
            out,
            "| {} | `bpf_{}` | {} | {} | {} | {} |",
            h.id,
            h.name,
            if h.gpl_only() { "GPL" } else { "" },
            types(h.progs),
            mark(vm::helper_implemented(h.id)),
            mark(modelled),
        );
    }
    let (vm_n, ver_n) = helpers::all().fold((0, 0), |(v, f), h| {
        let m = verifier::helpers::proto(h.id)
            .is_some_and(|p| p.fully_modelled() && !p.args.contains(&verifier::helpers::Arg::Func));
        (
            v + usize::from(vm::helper_implemented(h.id)),
            f + usize::from(m),
        )
    });
    let _ = writeln!(
        out,
        "\n{} helpers; the VM implements {vm_n}, the verifier models {ver_n} fully.",
        helpers::all().count()
    );
    out
}

#[test]
fn helpers_md_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/helpers.md");
    let want = render();
    if std::env::var_os("BPFX_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/helpers.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/helpers.md is stale: run `BPFX_BLESS=1 cargo test -p bpfx-harness --test helper_table`"
    );
}

#[test]
fn every_helper_has_a_row() {
    let text = render();
    for id in 1..helpers::MAX_ID {
        let name = asm::text::helpers::name(id).unwrap();
        assert!(text.contains(&format!("| {id} | `{name}` |")), "{name}");
    }
}
