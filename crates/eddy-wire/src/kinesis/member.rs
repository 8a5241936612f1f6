//! Reading one member out of the decoded request, with the
//! SerializationException message AWS gives for a member of the wrong type,
//! and the [`inputs!`] macro that declares an input structure.
//!
//! Both encodings arrive as the JSON value awsJson clients send (the CBOR
//! decoder turns byte strings into base64 text and tag-1 timestamps into
//! epoch seconds), so one reader per member type serves both.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::WireError;

use super::missing;

/// A `TagMap`: tag keys to values.
pub type TagMap = BTreeMap<String, String>;

/// A `blob` member, base64-decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

/// A `timestamp` member in milliseconds since the epoch (awsJson sends
/// seconds, possibly fractional; the CBOR decoder converts to the same).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub u64);

/// How a member of some type is read from the (non-null) value sent for
/// it; `name` is the member's name for the error message.
pub trait Member: Sized {
    fn read(v: Value, name: &str) -> Result<Self, String>;
}

impl Member for String {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(s),
            _ => Err(format!("Member {name} must be a string.")),
        }
    }
}

/// Every Kinesis number is a 32-bit `integer` in the model; a value outside
/// that range cannot be deserialised, as on AWS. A fraction, or a number
/// past i64, is no integer at all.
impl Member for i32 {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        match v.as_i64() {
            Some(i) => i32::try_from(i).map_err(|_| format!("Member {name} is out of range for a 32-bit integer.")),
            None => Err(format!("Member {name} must be an integer.")),
        }
    }
}

impl Member for bool {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        v.as_bool().ok_or_else(|| format!("Member {name} must be a boolean."))
    }
}

impl Member for Timestamp {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        v.as_f64()
            .filter(|s| *s >= 0.0)
            .map(|s| Timestamp((s * 1000.0).round() as u64))
            .ok_or_else(|| format!("Member {name} must be a timestamp."))
    }
}

impl Member for Blob {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        let text = String::read(v, name)?;
        STANDARD.decode(text).map(Blob).map_err(|_| format!("Member {name} is not valid base64."))
    }
}

impl Member for Vec<String> {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        let Value::Array(items) = v else { return Err(format!("Member {name} must be a list.")) };
        items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                _ => Err(format!("{name} must hold strings.")),
            })
            .collect()
    }
}

/// A null tag value is an empty one.
impl Member for TagMap {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        let Value::Object(map) = v else { return Err(format!("Member {name} must be a map.")) };
        map.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                Value::Null => Ok((k, String::new())),
                _ => Err(format!("{name} values must be strings.")),
            })
            .collect()
    }
}

/// A structure shape declared with [`inputs!`].
pub trait Structure: DeserializeOwned + Default {}

impl<T: Structure> Member for T {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        match v {
            Value::Object(_) => T::deserialize(v).map_err(|e| e.to_string()),
            _ => Err(format!("Member {name} must be a structure.")),
        }
    }
}

/// A list of structures. An item that is not a structure has no members
/// (so its required members are reported missing), as eddy always read it.
impl<T: Structure> Member for Vec<T> {
    fn read(v: Value, name: &str) -> Result<Self, String> {
        let Value::Array(items) = v else { return Err(format!("Member {name} must be a list.")) };
        items
            .into_iter()
            .map(|i| match i {
                Value::Object(_) => T::deserialize(i).map_err(|e| e.to_string()),
                _ => Ok(T::default()),
            })
            .collect()
    }
}

/// The members of one structure as sent, taken out one by one in the
/// order the structure declares them: that order decides which of several
/// wrong members is reported (a map's own order is alphabetical).
pub struct Members(Map<String, Value>);

impl Members {
    pub fn new(map: Map<String, Value>) -> Members {
        Members(map)
    }

    /// A member; absent and null are the same.
    pub fn take<T: Member>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::read(v, name).map(Some),
        }
    }
}

/// What a structure becomes once checked: required members present.
pub trait Build: Sized {
    type Out;
    fn build(self) -> Result<Self::Out, WireError>;
}

macro_rules! built_as_is {
    ($($t:ty),*) => {
        $(impl Build for $t {
            type Out = $t;
            fn build(self) -> Result<$t, WireError> {
                Ok(self)
            }
        })*
    };
}
built_as_is!(String, i32, bool, Timestamp, Blob, TagMap);

impl<T: Build> Build for Vec<T> {
    type Out = Vec<T::Out>;
    fn build(self) -> Result<Self::Out, WireError> {
        self.into_iter().map(Build::build).collect()
    }
}

/// A required member once checked. Every operation's checks report a
/// missing member in AWS's order first; this is the backstop.
pub fn required<T: Build>(member: Option<T>, name: &str) -> Result<T::Out, WireError> {
    member.ok_or_else(|| missing(name))?.build()
}

pub fn optional<T: Build>(member: Option<T>) -> Result<Option<T::Out>, WireError> {
    member.map(Build::build).transpose()
}

/// Declares structures twice from one list of members: in `raw`, as
/// deserialised (every member an `Option`, types checked, in the declared
/// order), and at the top, as the operation sees it once checked
/// (`req` members plain, `opt` members `Option`s). A structure member's
/// type names the structure; inside `raw` that name is the raw one.
macro_rules! inputs {
    ($(
        $(#[$m:meta])*
        $name:ident { $( $(#[$fm:meta])* $field:ident : $kind:ident $ty:ty = $member:literal ),* $(,)? }
    )*) => {
        /// The structures as deserialised, before their checks.
        pub mod raw {
            #[allow(unused_imports)]
            use super::*;
            use $crate::kinesis::member::{Members, Structure};

            $(
                #[derive(Debug, Default, Clone, PartialEq)]
                pub struct $name { $( pub $field: Option<$ty> ),* }

                impl<'de> serde::Deserialize<'de> for $name {
                    #[allow(unused_mut, unused_variables)]
                    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                        let mut m = Members::new(serde_json::Map::deserialize(d)?);
                        Ok($name { $( $field: m.take($member).map_err(<D::Error as serde::de::Error>::custom)? ),* })
                    }
                }

                impl Structure for $name {}

                impl $crate::kinesis::member::Build for $name {
                    type Out = super::$name;
                    #[allow(unused_variables)]
                    fn build(self) -> Result<super::$name, $crate::error::WireError> {
                        Ok(super::$name { $( $field: inputs!(@build $kind, self.$field, $member) ),* })
                    }
                }
            )*
        }

        $(
            $(#[$m])*
            #[derive(Debug, Default, Clone, PartialEq)]
            pub struct $name { $( $(#[$fm])* pub $field: inputs!(@type $kind $ty) ),* }

            impl $crate::kinesis::Input for $name {
                type Raw = raw::$name;
            }
        )*
    };
    (@type req $ty:ty) => { $ty };
    (@type opt $ty:ty) => { Option<$ty> };
    (@build req, $v:expr, $member:literal) => { $crate::kinesis::member::required($v, $member)? };
    (@build opt, $v:expr, $member:literal) => { $crate::kinesis::member::optional($v)? };
}

pub(crate) use inputs;
