//! role (in progress)
