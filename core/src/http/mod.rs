//! HTTP management clients: the RocketMQ Open API of the console ([`OpenApiClient`],
//! docs/open-api.md) and the ASAPI gateway of Apsara Stack ([`AsapiClient`], docs/asapi.md).
//!
//! Signing is not done here: both clients call the pure functions of [`crate::auth`]
//! (`open_api::signed_params` and `pop::PopRequest::sign`). What each file owns:
//!
//! * `transport`: one HTTP/1.1 exchange (hyper) over TCP, a proxy tunnel and rustls, with
//!   connect and total timeouts and a response size cap; [`HttpOptions`].
//! * `proxy`: proxy selection from [`ProxyOptions`] or `HTTP(S)_PROXY`/`NO_PROXY`.
//! * `tls`: the rustls client configuration (system roots, a CA file, or no verification).
//! * `url`: parsing of endpoint and proxy URLs.
//! * `open_api`: the Open API client, its typed requests, responses and error codes.
//! * `asapi`: the ASAPI client and its envelope.
//! * `address_server`: the address server of `ONSAddr` (a GET that answers with the name-server
//!   list), for the client instance that polls it.
//!
//! Neither the consoles nor an ASAPI gateway are reachable from the machines this is built
//! and tested on; the tests run both clients against local HTTPS servers that check every
//! signature with their own implementation of the rules (docs/open-api.md §4, docs/asapi.md §3).

pub(crate) mod address_server;
pub mod asapi;
pub mod open_api;
mod proxy;
mod tls;
mod transport;
mod url;

pub use asapi::{AsapiClient, AsapiConfig, AsapiErrorCode, AsapiHeaders, AsapiRequest, AsapiResponse};
pub use open_api::{ApiResponse, OpenApiClient, OpenApiConfig, OpenApiErrorCode, OpenApiRequest};
pub use proxy::ProxyOptions;
pub use transport::HttpOptions;
