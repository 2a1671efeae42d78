//! One table of names per contract enum. `names!` declares an enum with the
//! string each variant is spelled as in the contract (JSON, text, SARIF,
//! JUnit, the index, the command line), and derives every spelling from
//! that one table: `as_str`, `FromStr`, `Display`, and serde by string.
//! A variant may list older spellings after `|`, which are read (a stored
//! report written by an older build still loads) but never written.
//!
//! ```ignore
//! names! {
//!     /// Why a citation has nothing behind it.
//!     pub enum Missing: "missing reason" {
//!         NoLink = "no-link",
//!         EmptyLink = "empty-link" | "empty",
//!     }
//! }
//! ```

macro_rules! names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $what:literal {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $str:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in the order they are declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The contract's spelling of each variant, in the order of `ALL`.
            pub const NAMES: &'static [&'static str] = &[$($str),+];

            /// The contract's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $str,)+
                }
            }

            /// The variant a name spells (older spellings too), if any.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($str $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::from_name(s).ok_or_else(|| {
                    format!(
                        "unknown {} '{s}' (expected one of {})",
                        $what,
                        Self::NAMES.join(", ")
                    )
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Name;
                impl ::serde::de::Visitor<'_> for Name {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "a {} ({})", $what, $name::NAMES.join(", "))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_name(v).ok_or_else(|| E::unknown_variant(v, $name::NAMES))
                    }
                }
                d.deserialize_str(Name)
            }
        }
    };
}

pub(crate) use names;

#[cfg(test)]
mod tests {
    names! {
        /// A test enum.
        enum Colour: "colour" {
            Red = "red",
            /// Documented variants keep their docs.
            DarkBlue = "dark-blue" | "darkblue",
        }
    }

    #[test]
    fn one_table_spells_every_way() {
        for &c in Colour::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
            assert_eq!(c.to_string().parse::<Colour>(), Ok(c));
        }
        assert_eq!(Colour::NAMES, ["red", "dark-blue"]);
    }

    #[test]
    fn older_spellings_are_read_never_written() {
        assert_eq!(
            serde_json::from_str::<Colour>("\"darkblue\"").unwrap(),
            Colour::DarkBlue
        );
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(
            "green".parse::<Colour>(),
            Err("unknown colour 'green' (expected one of red, dark-blue)".to_string())
        );
        let e = serde_json::from_str::<Colour>("\"green\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `green`"), "{e}");
    }
}
