//! The VRRP state machine.
