//! Helpers shared by convene-core's integration tests.

pub mod dunst;
