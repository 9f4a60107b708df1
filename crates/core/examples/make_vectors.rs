//! Writes the test vectors of `bundles/vectors/` (see `bundles/README.md`).
//!
//! Run from the repository root:
//! `cargo run -p qoima-core --example make_vectors -- bundles/vectors`.
//! The bytes come from `qoima_core::fixtures::vectors`; `tests/vectors.rs` fails if the
//! committed files and that module ever disagree.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: make_vectors DIRECTORY");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&dir)?;
    let vectors = qoima_core::fixtures::vectors::all();
    for vector in &vectors {
        std::fs::write(dir.join(vector.name), &vector.bytes)?;
        println!("{:>6}  {}", vector.bytes.len(), vector.name);
    }
    println!("{} vectors written to {}", vectors.len(), dir.display());
    Ok(())
}
