//! The PostgreSQL benchmark binary with 10 registered migrations.
include!(concat!(env!("OUT_DIR"), "/pg-n10.rs"));

fn main() {
    bench_migrate::pg_main();
}
