//! A name server's route answer: parsed, then expanded into the queue lists producers and
//! consumers use. run.sh runs it with a memory limit, so an answer that expands past it fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocketmq_ons::protocol::route::TopicRouteData;

fuzz_target!(|data: &[u8]| {
    if let Ok(route) = TopicRouteData::parse(data) {
        let _ = route.publish_queues("T");
        let _ = route.subscribe_queues("T");
        let _ = route.all_broker_addrs();
    }
});
