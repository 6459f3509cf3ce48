//! Any program the verifier accepts must run in the VM without a memory fault; only the
//! instruction budget may stop it. Input: one byte choosing the program type, then bytecode.
#![no_main]

use asm::types::ProgType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, code)) = data.split_first() else {
        return;
    };
    let pt = match sel % 3 {
        0 => ProgType::SocketFilter,
        1 => ProgType::Xdp,
        _ => ProgType::SchedCls,
    };
    let opts = verifier::Options::new(pt);
    if verifier::verify_bytes(code, &opts).is_err() {
        return;
    }
    let mut v = vm::Vm::new();
    v.set_budget(100_000);
    v.set_packet(vec![0x5a; 64]);
    let id = v
        .load(code, pt)
        .expect("the VM loads every program the verifier accepts");
    if let Err(e) = v.run(id) {
        assert!(
            matches!(e.kind, vm::ErrorKind::Budget { .. }),
            "accepted program faulted: {e}"
        );
    }
});
