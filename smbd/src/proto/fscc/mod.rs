//! MS-FSCC information classes (to be written).
