//! The PostgreSQL benchmark binary with 100 registered migrations.
include!(concat!(env!("OUT_DIR"), "/pg-n100.rs"));

fn main() {
    bench_migrate::pg_main();
}
