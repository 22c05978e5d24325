//! delta (in progress)
