//! token (in progress)
