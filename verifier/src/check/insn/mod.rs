//! One instruction's effect on the abstract state, one file per instruction class, like the
//! kernel's `check_alu_op`, `check_mem_access`, `check_cond_jmp_op`, `check_helper_call` ...

pub(crate) mod alu;
pub(crate) mod atomic_ldst;
pub(crate) mod call;
pub(crate) mod callback;
pub(crate) mod helper_call;
pub(crate) mod jmp;
pub(crate) mod ld;
pub(crate) mod map_compat;
pub(crate) mod mem;
pub(crate) mod ptr_arith;
pub(crate) mod stack;
