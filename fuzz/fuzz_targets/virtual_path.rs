//! cargo +nightly fuzz run virtual_path
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ftpfixture::__fuzz::virtual_path(data);
});
