//! The full-text documents on their way out (`/read` of a long article). Fifty chats reading
//! the same 5 MB article queue fifty replies; each used to hold its own copy, and memory grew
//! with the readers (712 MB for 500 such replies). Here a document is kept once, shared by
//! every reply that carries it (and by the send, which hands the same bytes to the HTTP
//! client), and the distinct documents held at once are bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Bytes of distinct documents that may be on their way out at once: a dozen of the longest
/// articles seen in real scrapes (4.9 MB), a few hundred ordinary long ones.
pub const DOCUMENT_BUDGET: usize = 64 << 20;

/// Documents shared by content, dropped when the last reply carrying them is sent.
pub struct Shelf {
    budget: usize,
    held: Mutex<HashMap<blake3::Hash, Weak<str>>>,
}

impl Shelf {
    pub fn new(budget: usize) -> Shelf {
        Shelf {
            budget,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// The shared copy of `content`: the one already held if some reply still carries the same
    /// text, else a new one. `None` when a new one would take the documents held past the
    /// budget (the caller asks the user to try again; one document is always allowed).
    pub fn share(&self, content: String) -> Option<Arc<str>> {
        let key = blake3::hash(content.as_bytes());
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.retain(|_, doc| doc.strong_count() > 0);
        if let Some(doc) = held.get(&key).and_then(Weak::upgrade) {
            return Some(doc);
        }
        let live = live_bytes(&held);
        if live > 0 && live + content.len() > self.budget {
            return None;
        }
        let doc: Arc<str> = Arc::from(content);
        held.insert(key, Arc::downgrade(&doc));
        Some(doc)
    }

    /// Bytes of the documents still carried by some reply.
    pub fn live_bytes(&self) -> usize {
        live_bytes(&self.held.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn live_bytes(held: &HashMap<blake3::Hash, Weak<str>>) -> usize {
    held.values()
        .filter_map(Weak::upgrade)
        .map(|doc| doc.len())
        .sum()
}

/// A shared document as the bytes of an HTTP body, without a copy.
#[derive(Clone)]
pub struct DocumentBytes(pub Arc<str>);

impl AsRef<[u8]> for DocumentBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_is_held_once() {
        let shelf = Shelf::new(100);
        let a = shelf.share("长文".repeat(10)).unwrap();
        let b = shelf.share("长文".repeat(10)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(shelf.live_bytes(), 60);
    }

    #[test]
    fn distinct_documents_are_bounded_and_freed_when_sent() {
        let shelf = Shelf::new(100);
        let a = shelf.share("a".repeat(60)).unwrap();
        assert!(shelf.share("b".repeat(60)).is_none(), "over the budget");
        // The same text as one held costs nothing more.
        assert!(shelf.share("a".repeat(60)).is_some());
        drop(a);
        assert_eq!(shelf.live_bytes(), 0);
        assert!(shelf.share("b".repeat(60)).is_some());
    }

    #[test]
    fn one_document_larger_than_the_budget_still_goes() {
        let shelf = Shelf::new(10);
        assert!(shelf.share("x".repeat(50)).is_some());
    }
}
