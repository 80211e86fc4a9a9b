//! Scenarios against in-process peers, each with a real yrs client document on the other side
//! of the y-websocket protocol, over the memory store or a faulty wrapper of it.

mod awareness;
mod common;
mod durability;
mod json_api;
mod limits;
mod nodes;
mod peers;
mod registry;
mod upstream;
