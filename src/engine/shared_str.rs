//! [`SharedStr`]: the strings of a [`StartWorkflowAction`](super::action::StartWorkflowAction)
//! that every run of a schedule shares (schedule id, workflow type, task queue).
//!
//! One allocation per schedule holds all of them; each field is a handle (the allocation and a
//! range in it), so a fired start copies no string and touches one reference count.
//!
//! Invariant: `start..end` is a range of char boundaries of `text` (checked where a handle is
//! made, so `Deref` never fails).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable, cheaply cloned string that dereferences to `str`; several may share one
/// allocation. Read it as `&*action.workflow`, `action.schedule_id.as_deref()`, or with any
/// `str` method; compare it with `==` against `&str` and `String`.
///
/// ```
/// use schedule_engine::SharedStr;
///
/// let s = SharedStr::from("report");
/// assert_eq!(&*s, "report");
/// assert_eq!(s, "report");
/// assert!(s.starts_with("rep"));
/// let copy = s.clone(); // no copy of the text
/// assert_eq!(copy.len(), 6);
/// ```
#[derive(Clone)]
pub struct SharedStr {
    text: Arc<str>,
    start: u32,
    end: u32,
}

impl SharedStr {
    /// The part `range` of `text` (shared, not copied); `None` if `range` is out of bounds, not
    /// on char boundaries, or longer than 4 GiB.
    pub(crate) fn slice(text: &Arc<str>, range: Range<usize>) -> Option<SharedStr> {
        text.get(range.clone())?;
        Some(SharedStr {
            text: text.clone(),
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        let (start, end) = (self.start as usize, self.end as usize);
        self.text
            .get(start..end)
            .expect("invariant: a SharedStr's range lies on char boundaries of its text")
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr::from(Arc::<str>::from(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr::from(Arc::<str>::from(s))
    }
}

impl From<Arc<str>> for SharedStr {
    /// The whole of `text`. Texts longer than 4 GiB keep their first 4 GiB (rounded down to a
    /// char boundary): no id, name or queue a user sends comes near that.
    fn from(text: Arc<str>) -> Self {
        let mut end = text.len().min(u32::MAX as usize);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        SharedStr {
            start: 0,
            end: end as u32,
            text,
        }
    }
}

impl Default for SharedStr {
    fn default() -> Self {
        SharedStr::from("")
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &SharedStr) -> bool {
        **self == **other
    }
}

impl Eq for SharedStr {}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        **self == **other
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == &**other
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == &**other
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        **self == **other
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &SharedStr) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &SharedStr) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for SharedStr {
    // As `str` hashes, so that `Borrow<str>` lookups find it.
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SharedStr::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_share_one_allocation() {
        let text: Arc<str> = Arc::from("idwfqueue");
        let id = SharedStr::slice(&text, 0..2).unwrap();
        let wf = SharedStr::slice(&text, 2..4).unwrap();
        let queue = SharedStr::slice(&text, 4..9).unwrap();
        assert_eq!((&*id, &*wf, &*queue), ("id", "wf", "queue"));
        assert_eq!(Arc::strong_count(&text), 4);
        assert!(SharedStr::slice(&text, 4..10).is_none());
        let accented: Arc<str> = Arc::from("é");
        assert!(SharedStr::slice(&accented, 0..1).is_none());
    }

    #[test]
    fn compares_hashes_and_serializes_as_its_text() {
        let text: Arc<str> = Arc::from("xabc");
        let s = SharedStr::slice(&text, 1..4).unwrap();
        assert_eq!(s, SharedStr::from("abc"));
        assert_eq!(s, "abc");
        assert_eq!("abc", s);
        assert_eq!(s, String::from("abc"));
        let mut set = std::collections::HashSet::new();
        set.insert(s.clone());
        assert!(set.contains("abc"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
        let back: SharedStr = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back, s);
        assert_eq!(format!("{s} {s:?}"), "abc \"abc\"");
    }
}
