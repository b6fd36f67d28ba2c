//! The benchmark binary with 10000 registered migrations.
include!(concat!(env!("OUT_DIR"), "/n10000.rs"));

fn main() {
    bench_migrate::main();
}
