//! Linking a program with the `.text` functions it calls.

use crate::elf::{reloc_err, Code, Func};
use crate::ObjectError;
use asm::insn::Insn;
use asm::isa::{CallKind, Form, Pseudo};
use std::collections::HashMap;

/// A linked program.
pub(crate) struct Linked {
    /// The instructions: the program, then the functions it calls.
    pub(crate) insns: Vec<Insn>,
    /// The appended functions' names and slots.
    pub(crate) subprograms: Vec<(String, usize)>,
    /// Undefined functions called from any of its instructions.
    pub(crate) undefined_calls: Vec<String>,
    /// Externs referred to from any of its instructions.
    pub(crate) externs: Vec<String>,
    /// Each instruction (index in `insns`) that refers to an extern, with the extern.
    pub(crate) extern_refs: Vec<(usize, String)>,
}

/// Copies a program's function and appends every function it calls (transitively), fixing
/// each call's offset — what libbpf's `bpf_object__reloc_code` does. Jumps stay valid
/// because each function is copied whole.
pub(crate) fn link(codes: &[Code], ci: usize, prog: &Func) -> Result<Linked, ObjectError> {
    let mut out: Vec<Insn> = Vec::new();
    // Origin of each output instruction: (code section, slot) and its output slot.
    let mut origin: Vec<(usize, usize)> = Vec::new();
    let mut out_slots: Vec<usize> = Vec::new();
    // (code section, function start) → output slot of the function's start.
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    let mut subprograms = Vec::new();
    let (mut undefined_calls, mut externs) = (Vec::new(), Vec::new());
    let mut extern_refs = Vec::new();
    let mut next_slot = 0usize;

    let mut append = |out: &mut Vec<Insn>,
                      origin: &mut Vec<(usize, usize)>,
                      out_slots: &mut Vec<usize>,
                      c: usize,
                      start: usize,
                      end: usize| {
        let at = next_slot;
        for (i, &slot) in codes[c].slots.iter().enumerate() {
            if slot >= start && slot < end {
                out.push(codes[c].insns[i]);
                origin.push((c, slot));
                out_slots.push(next_slot);
                next_slot += codes[c].insns[i].slots();
            }
        }
        at
    };
    let at = append(
        &mut out,
        &mut origin,
        &mut out_slots,
        ci,
        prog.start,
        prog.end,
    );
    placed.insert((ci, prog.start), at);

    let mut i = 0;
    while i < out.len() {
        let insn = out[i];
        let (c, slot) = origin[i];
        if let Some((name, is_extern)) = codes[c].unresolved.get(&slot) {
            let list = if *is_extern {
                &mut externs
            } else {
                &mut undefined_calls
            };
            if !list.contains(name) {
                list.push(name.clone());
            }
            if *is_extern {
                extern_refs.push((i, name.clone()));
            }
            i += 1;
            continue;
        }
        let is_call = insn.form() == Some(Form::Call(CallKind::Local));
        let is_func_ptr = insn.pseudo() == Some(Pseudo::Func);
        if !(is_call || is_func_ptr) {
            i += 1;
            continue;
        }
        let code = &codes[c];
        let (tc, tslot) = match code.targets.get(&slot) {
            Some(&t) => t,
            None if is_call => {
                let t = slot as i64 + 1 + insn.imm;
                if t < 0 || code.index_of_slot(t as usize).is_none() {
                    return Err(reloc_err(
                        &code.name,
                        slot as u64 * 8,
                        "",
                        &format!("call at slot {slot} jumps to slot {t}, outside the section"),
                    ));
                }
                (c, t as usize)
            }
            None => {
                return Err(reloc_err(
                    &code.name,
                    slot as u64 * 8,
                    "",
                    "function pointer without a relocation",
                ))
            }
        };
        let tcode = &codes[tc];
        let func = tcode.func_at(tslot).cloned().unwrap_or(Func {
            name: tcode.name.clone(),
            start: 0,
            end: tcode.total_slots(),
            global: false,
        });
        let start_out = if tc == ci && prog.start <= tslot && tslot < prog.end {
            placed[&(ci, prog.start)]
        } else if let Some(&s) = placed.get(&(tc, func.start)) {
            s
        } else {
            if tcode.name != ".text" {
                return Err(reloc_err(
                    &code.name,
                    slot as u64 * 8,
                    &func.name,
                    &format!(
                        "calls into program section `{}`; only `.text` functions can be called",
                        tcode.name
                    ),
                ));
            }
            let s = append(
                &mut out,
                &mut origin,
                &mut out_slots,
                tc,
                func.start,
                func.end,
            );
            placed.insert((tc, func.start), s);
            subprograms.push((func.name.clone(), s));
            s
        };
        let base = if tc == ci && prog.start <= tslot && tslot < prog.end {
            prog.start
        } else {
            func.start
        };
        let target_out = (start_out + (tslot - base)) as i64;
        let rel = target_out - (out_slots[i] as i64 + 1);
        out[i].imm = rel;
        i += 1;
    }
    Ok(Linked {
        insns: out,
        subprograms,
        undefined_calls,
        externs,
        extern_refs,
    })
}
