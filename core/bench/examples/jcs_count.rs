//! Runs one JCS implementation on the bench input a fixed number of times, for instruction
//! counting under `valgrind --tool=callgrind` (stable where wall-clock timings are not):
//! `jcs_count kez|serde 1024|102400 ITERATIONS`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("kez", String::as_str);
    let size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let iters: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let input = kez_core_bench::json_object(size);
    let mut total = 0usize;
    for _ in 0..iters {
        total += if which == "kez" {
            kez_core::jcs::canonicalize_to_vec(std::hint::black_box(input.as_bytes()))
                .unwrap()
                .len()
        } else {
            let v: serde_json::Value = serde_json::from_str(std::hint::black_box(&input)).unwrap();
            serde_jcs::to_vec(&v).unwrap().len()
        };
    }
    println!("{which} {size} x{iters}: {total} bytes out");
}
