//! `wire_enum!`: open enums for wire codes. Unknown values parse and print as hex.

/// Declares a newtype over an integer with named associated constants, a `name()` lookup and a
/// `Debug` that prints the name or, for unknown values, the hex value.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$m:meta])* pub struct $name:ident($ty:ty) { $($(#[$vm:meta])* $var:ident = $val:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $ty);

        #[allow(non_upper_case_globals)]
        impl $name {
            $($(#[$vm])* pub const $var: Self = Self($val);)*

            /// The specification's name of this value, if it is a known one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$var => Some(stringify!($var)),)*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}(0x{:x})", stringify!($name), self.0),
                }
            }
        }
    };
}
