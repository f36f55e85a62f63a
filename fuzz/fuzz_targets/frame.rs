//! Remoting frames as a connection's reader takes them off the socket, JSON and binary headers.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rocketmq_ons::protocol::command::decode_frame;

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_)) = decode_frame(&mut buf) {}
});
