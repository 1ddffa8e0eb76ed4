//! cargo +nightly fuzz run scenario
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ftpfixture::__fuzz::scenario(data);
});
