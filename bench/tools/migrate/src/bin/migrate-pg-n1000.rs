//! The PostgreSQL benchmark binary with 1000 registered migrations.
include!(concat!(env!("OUT_DIR"), "/pg-n1000.rs"));

fn main() {
    bench_migrate::pg_main();
}
