//! The benchmark binary with 100 registered migrations.
include!(concat!(env!("OUT_DIR"), "/n100.rs"));

fn main() {
    bench_migrate::main();
}
