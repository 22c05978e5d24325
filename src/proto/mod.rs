//! proto (in progress)
