//! Protocol tests (in progress)
