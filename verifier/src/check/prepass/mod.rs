//! Passes over the program before exploration, in the order `bpf_check` runs them:
//! `resolve_pseudo_ldimm64`, `check_subprogs`, `check_cfg`, liveness; and the stack-depth
//! check that runs once exploration has sized every frame.

mod cfg;
mod ldimm64;
mod liveness;
mod subprogs;
