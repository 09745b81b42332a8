#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crucible_fuzz_cases::lockfile(data));
