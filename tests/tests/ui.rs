//! Compile-time tests of `#[migration]`: the forms it accepts (`ui/pass`) and the
//! mistakes it reports, each with its expected diagnostics (`ui/fail`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
