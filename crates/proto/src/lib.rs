//! Wire types that the Convene client and convene-server share.
//!
//! Plain serde types with no I/O. The JSON spellings here are a contract:
//! scripts and other clients rely on them, so change them only with a new
//! protocol version.

pub mod call;
pub mod dev;
pub mod exchange;
pub mod graph;
pub mod live;
pub mod server_info;

pub use exchange::{
    AcsError, AcsErrorBody, CommunicationTokenRequest, CommunicationTokenResponse, ExchangeRequest,
    ExchangeResponse, COMMUNICATION_TOKEN_PATH, EXCHANGE_API_VERSION, EXCHANGE_PATH,
};
pub use server_info::{Health, HealthStatus, ServerMode, ServerVersion, PROTOCOL_VERSION};
