//! `kez-vectors`: writes vectors/<area>.json and the SPEC.md §12 table; `--check` only
//! compares and exits 1 when anything is stale.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        [flag] if flag == "--help" || flag == "-h" => {
            println!(
                "usage: kez-vectors [--check]\n\nWrites vectors/<area>.json and the SPEC.md §12 \
                 table (between the vectors:begin/end markers).\n--check  write nothing; exit 1 \
                 and name every stale file"
            );
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("kez-vectors: usage: kez-vectors [--check]");
            return ExitCode::from(2);
        }
    };
    let root = kez_vectors::workspace_root();
    if check {
        match kez_vectors::stale(&root) {
            Ok(stale) if stale.is_empty() => {
                println!("vectors are up to date");
                ExitCode::SUCCESS
            }
            Ok(stale) => {
                for s in stale {
                    eprintln!("kez-vectors: {s}");
                }
                eprintln!("kez-vectors: run `cargo run -p kez-vectors` to regenerate");
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("kez-vectors: {e}");
                ExitCode::from(2)
            }
        }
    } else {
        match kez_vectors::write(&root) {
            Ok(changed) => {
                for c in &changed {
                    println!("wrote {c}");
                }
                if changed.is_empty() {
                    println!("vectors are up to date");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kez-vectors: {e}");
                ExitCode::from(2)
            }
        }
    }
}
