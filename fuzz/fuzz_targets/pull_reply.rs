//! A broker's pull reply body, decoded within limits taken from the input's first bytes (a
//! message count up to 64 and a body budget up to 16 MiB, as a consumer's cache would give).
//! run.sh runs it with a memory limit: decoded bodies must stay within the budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocketmq_ons::protocol::message::{decode_stored_messages_within, DecodeLimits};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let messages = 1 + usize::from(data[0] % 64);
    let body_bytes = usize::from(u16::from_be_bytes([data[1], data[2]])) << (data[3] % 9);
    let limits = DecodeLimits { messages, body_bytes, first_body_bytes: body_bytes };
    let _ = decode_stored_messages_within(&data[4..], limits);
});
