//! The document a sync hands to tantivy, and the bound on how many are in flight.
//!
//! Tantivy's own `TantivyDocument` owns one copy of every value: an article's folded body,
//! indexed by three fields (words, bigrams, atoms), was held three times over, next to the
//! stored body. And `IndexWriter::add_document` queues up to 10,000 documents for its
//! indexing threads, which are slower than the parsers: a full build kept thousands of
//! articles in that queue, several copies each, and most of the build's memory was there.
//!
//! [`SharedDoc`] holds each string once; fields that index the same text borrow it. Each
//! document carries a [`Ticket`] from [`InFlight`], returned when tantivy drops the document
//! after indexing it, and the sync takes a ticket before parsing on: at most
//! [`IN_FLIGHT`] documents wait for the writer at any time, whatever the collection's size.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tantivy::TantivyDocument;
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::{Document, Field, Value};

/// Documents queued for or being indexed by tantivy's threads at most. Enough to keep both of
/// them busy across a segment flush; a few megabytes.
pub(super) const IN_FLIGHT: usize = 512;

/// How long [`InFlight::take`] waits for a ticket before going on without one: the writer's
/// threads only stop taking documents when they failed, and `add_document` then reports it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// Counts the documents handed to tantivy and not yet dropped by it.
#[derive(Debug, Default)]
pub(super) struct InFlight {
    count: Mutex<usize>,
    returned: Condvar,
}

impl InFlight {
    pub(super) fn new() -> Arc<InFlight> {
        Arc::new(InFlight::default())
    }

    /// Waits until fewer than `limit` documents are in flight, then counts one more.
    pub(super) fn take(self: &Arc<Self>, limit: usize) -> Ticket {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = std::time::Instant::now() + GIVE_UP_AFTER;
        while *count >= limit {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            count = self
                .returned
                .wait_timeout(count, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *count += 1;
        Ticket(Arc::clone(self))
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One document in flight; given back when dropped.
#[derive(Debug)]
pub(super) struct Ticket(Arc<InFlight>);

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(|e| e.into_inner());
        *count = count.saturating_sub(1);
        self.0.returned.notify_one();
    }
}

/// Where a field's value is: in the document's strings or bytes, or inline.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Text(usize),
    Bytes(usize),
    U64(u64),
    I64(i64),
}

/// A document whose fields borrow from strings it holds once (see the module comment).
#[derive(Debug, Default)]
pub struct SharedDoc {
    texts: Vec<String>,
    bytes: Vec<Vec<u8>>,
    values: Vec<(Field, Slot)>,
    ticket: Option<Ticket>,
}

/// A handle to a string added with [`SharedDoc::text`], to index it in another field.
#[derive(Debug, Clone, Copy)]
pub(super) struct TextRef(usize);

impl SharedDoc {
    /// Adds `text` as the value of `field`.
    pub(super) fn text(&mut self, field: Field, text: String) -> TextRef {
        self.texts.push(text);
        let at = self.texts.len() - 1;
        self.values.push((field, Slot::Text(at)));
        TextRef(at)
    }

    /// Adds the text of `text` again, as a value of `field`, without a copy.
    pub(super) fn same_text(&mut self, field: Field, text: TextRef) {
        self.values.push((field, Slot::Text(text.0)));
    }

    pub(super) fn u64(&mut self, field: Field, value: u64) {
        self.values.push((field, Slot::U64(value)));
    }

    pub(super) fn i64(&mut self, field: Field, value: i64) {
        self.values.push((field, Slot::I64(value)));
    }

    pub(super) fn bytes(&mut self, field: Field, value: Vec<u8>) {
        self.bytes.push(value);
        self.values.push((field, Slot::Bytes(self.bytes.len() - 1)));
    }

    /// Counts the document as in flight until tantivy drops it.
    pub(super) fn hold(&mut self, ticket: Ticket) {
        self.ticket = Some(ticket);
    }

    /// The same document as tantivy's own type (one copy per field), for callers that lay out
    /// an index themselves.
    pub fn into_tantivy(self) -> TantivyDocument {
        self.into_tantivy_document()
    }
}

/// A value borrowed from a [`SharedDoc`].
#[derive(Debug, Clone)]
pub struct SharedValue<'a>(ReferenceValueLeaf<'a>);

impl<'a> Value<'a> for SharedValue<'a> {
    type ArrayIter = std::iter::Empty<SharedValue<'a>>;
    type ObjectIter = std::iter::Empty<(&'a str, SharedValue<'a>)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(self.0.clone())
    }
}

impl Document for SharedDoc {
    type Value<'a> = SharedValue<'a>;
    type FieldsValuesIter<'a> = Box<dyn Iterator<Item = (Field, SharedValue<'a>)> + 'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        Box::new(self.values.iter().map(move |&(field, slot)| {
            let leaf = match slot {
                Slot::Text(i) => ReferenceValueLeaf::Str(&self.texts[i]),
                Slot::Bytes(i) => ReferenceValueLeaf::Bytes(&self.bytes[i]),
                Slot::U64(v) => ReferenceValueLeaf::U64(v),
                Slot::I64(v) => ReferenceValueLeaf::I64(v),
            };
            (field, SharedValue(leaf))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema, TEXT};

    #[test]
    fn a_text_added_again_is_one_string_and_two_values() {
        let mut schema = Schema::builder();
        let a = schema.add_text_field("a", TEXT | STORED);
        let b = schema.add_text_field("b", TEXT);
        let n = schema.add_u64_field("n", STORED);
        let mut doc = SharedDoc::default();
        let body = doc.text(a, "正文".to_owned());
        doc.same_text(b, body);
        doc.u64(n, 7);
        assert_eq!(doc.texts.len(), 1);
        let values: Vec<(Field, Option<String>, Option<u64>)> = doc
            .iter_fields_and_values()
            .map(|(f, v)| (f, v.as_str().map(str::to_owned), v.as_u64()))
            .collect();
        assert_eq!(
            values,
            vec![
                (a, Some("正文".to_owned()), None),
                (b, Some("正文".to_owned()), None),
                (n, None, Some(7)),
            ]
        );
        let owned = doc.into_tantivy();
        assert_eq!(owned.get_first(b).and_then(|v| v.as_str()), Some("正文"));
    }

    #[test]
    fn tickets_bound_what_is_in_flight() {
        let in_flight = InFlight::new();
        let first = in_flight.take(2);
        let second = in_flight.take(2);
        assert_eq!(in_flight.count(), 2);
        let waiter = {
            let in_flight = Arc::clone(&in_flight);
            std::thread::spawn(move || {
                let third = in_flight.take(2);
                drop(third);
            })
        };
        // The third waits for one of the first two to be given back.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(in_flight.count(), 2);
        drop(first);
        waiter.join().expect("waiter");
        drop(second);
        assert_eq!(in_flight.count(), 0);
    }
}
