//! The benchmark binary with 1000 registered migrations.
include!(concat!(env!("OUT_DIR"), "/n1000.rs"));

fn main() {
    bench_migrate::main();
}
