//! A city in an internet shutdown, simulated.
//!
//! (Model docs follow.)

pub mod archive;
pub mod exchange;
pub mod fetch;
pub mod flood;
pub mod node_rules;
pub mod params;
pub mod plots;
pub mod records;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod svg;
pub mod world;
