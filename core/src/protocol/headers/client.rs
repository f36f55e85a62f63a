//! Client-level requests: a topic's route from a name server (GET_ROUTEINFO_BY_TOPIC 105) and
//! leaving a group at every broker (UNREGISTER_CLIENT 35).

use crate::protocol::codes::request;

request_header! {
    /// Java `namesrv.GetRouteInfoRequestHeader`.
    pub struct GetRouteInfoRequestHeader<'a>, code request::GET_ROUTEINFO_BY_TOPIC, {
        topic: &'a str => "topic",
        /// Asks for standard JSON; a name server that does not know the field answers in
        /// fastjson's form, which `protocol::lenient_json` reads too.
        accept_standard_json_only: bool => "acceptStandardJsonOnly",
    }
}

request_header! {
    /// Java `UnregisterClientRequestHeader`: one of the two groups is set.
    pub struct UnregisterClientRequestHeader<'a>, code request::UNREGISTER_CLIENT, {
        /// Capitalised so in the Java class.
        client_id: &'a str => "clientID",
        producer_group: Option<&'a str> => "producerGroup",
        consumer_group: Option<&'a str> => "consumerGroup",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{fields_of, vector};
    use super::*;
    use crate::protocol::headers::RequestHeader;

    #[test]
    fn route() {
        let h = GetRouteInfoRequestHeader { topic: "T", accept_standard_json_only: true };
        assert_eq!(h.code(), 105);
        assert_eq!(fields_of(&h), vector(&[("topic", "T"), ("acceptStandardJsonOnly", "true")]));
    }

    #[test]
    fn unregister() {
        let h =
            UnregisterClientRequestHeader { client_id: "1.2.3.4@7", producer_group: Some("P"), consumer_group: None };
        assert_eq!(h.code(), 35);
        assert_eq!(fields_of(&h), vector(&[("clientID", "1.2.3.4@7"), ("producerGroup", "P")]));
        let h = UnregisterClientRequestHeader { client_id: "c", producer_group: None, consumer_group: Some("C") };
        assert_eq!(fields_of(&h), vector(&[("clientID", "c"), ("consumerGroup", "C")]));
    }
}
