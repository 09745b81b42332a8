#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crucible_fuzz_cases::judge_answer(data));
