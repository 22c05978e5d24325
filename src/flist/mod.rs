//! flist (in progress)
