//! cargo +nightly fuzz run command_line
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ftpfixture::__fuzz::command_line(data);
});
