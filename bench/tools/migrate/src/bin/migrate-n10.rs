//! The benchmark binary with 10 registered migrations.
include!(concat!(env!("OUT_DIR"), "/n10.rs"));

fn main() {
    bench_migrate::main();
}
