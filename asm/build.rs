fn main() {
    // Every `*.lalrpop` grammar under src/ becomes a Rust module in OUT_DIR. Watching the
    // whole tree makes a newly added grammar rebuild too (lalrpop skips unchanged ones).
    println!("cargo:rerun-if-changed=src");
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
        .expect("lalrpop grammar failed to build");
}
