//! The live WebSocket (`convene_proto::live`): hints that chats changed,
//! typing, and presence, pushed to signed-in clients.

pub mod hub;
