//! The ways a notification leaves the system. In-app delivery is the
//! notification row itself plus a bus message, so it has no module here.

pub mod email;
pub mod web_push;
pub mod webhook;
