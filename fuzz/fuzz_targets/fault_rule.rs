//! cargo +nightly fuzz run fault_rule
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ftpfixture::__fuzz::fault_rule(data);
});
