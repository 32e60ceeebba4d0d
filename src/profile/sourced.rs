//! `Sourced<T>`: a profile value together with the file, line and column it came from, so an
//! error found long after parsing (during validation or planning) can still point at it.

use crate::error::SourcePos;
use serde::{Deserialize, Deserializer};
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    // serde gives a Deserialize impl no context, but every value must know its file. The
    // profile loader sets the file name here for the duration of one parse.
    static CURRENT_FILE: RefCell<Rc<str>> = RefCell::new(Rc::from("<input>"));
}

/// Run `parse` with `file` recorded as the origin of every `Sourced` value it produces.
pub fn with_file<R>(file: &str, parse: impl FnOnce() -> R) -> R {
    let previous = CURRENT_FILE.with(|f| f.replace(Rc::from(file)));
    let result = parse();
    CURRENT_FILE.with(|f| f.replace(previous));
    result
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub pos: SourcePos,
}

impl<T> Sourced<T> {
    /// A value that does not come from a file (defaults, flags, tests).
    pub fn synthetic(value: T, origin: &str) -> Self {
        Sourced {
            value,
            pos: SourcePos {
                file: origin.to_string(),
                line: 0,
                column: 0,
            },
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sourced<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let file = CURRENT_FILE.with(|f| f.borrow().to_string());
        Ok(Sourced {
            value: spanned.value,
            pos: SourcePos {
                file,
                line: spanned.referenced.line() as u32,
                column: spanned.referenced.column() as u32,
            },
        })
    }
}
