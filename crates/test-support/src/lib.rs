//! Real services the tests of several crates start for themselves: coturn,
//! a private PulseAudio and PipeWire, a notification daemon (dunst). Only
//! dev-dependencies use this crate.

pub mod coturn;
pub mod dunst;
pub mod pipewire;
pub mod pulse;
