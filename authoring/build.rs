//! `crucible new` embeds the project templates and the contract's WIT
//! (`include_dir!`). A macro cannot tell cargo which files it read, so
//! this says it: a changed template rebuilds the binary that carries it.

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=../wit");
}
