//! Stories: each article joins the story of its most similar earlier article, or starts one.
//!
//! A story's id is the ingest number of the article that started it, kept in the `story`
//! field of every member. Assignment is incremental and happens once, when an article is
//! indexed: later files join existing stories, a removed file takes nothing with it (the
//! others keep the id), and the grouping is in the index, so a restart gives the same one.
//!
//! Candidates are the articles sharing a band key with the new one (`lsh` field): those
//! committed before this sync, found through the inverted index, and those added earlier in
//! this sync, kept here (the writer's documents are not searchable until the commit).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Searcher, TERMINATED, Term};

use super::schema::{self, Fields};
use chrono::NaiveDate;

use crate::corpus::dates::from_date_key;
use crate::story::{self, Signature};

/// The end of a chain in [`StoryBook::chain`].
const END: u32 = u32::MAX;

/// Slots per band to begin with.
const MIN_SLOTS: usize = 1024;

/// An article added in this sync, as a candidate for the next ones.
struct Member {
    key: String,
    story: u64,
    sig: Signature,
    date: Option<NaiveDate>,
}

/// The story assignments of one sync.
pub(super) struct StoryBook<'a> {
    searcher: Searcher,
    fields: &'a Fields,
    /// Committed documents that this sync replaces or removes: not candidates.
    stale: HashSet<String>,
    batch: Vec<Member>,
    /// Per band, a table of [`StoryBook::slots`] slots: the last member whose key for that
    /// band falls in the slot (the key's low bits; a collision only adds a candidate, which is
    /// then compared). `chain` links each (member, band) to the previous member in the same
    /// slot. Flat tables instead of a map of 4 million (member, band) keys at 97,970 articles
    /// (estimated ~75 MB with the map's doubling; the build's measured peak did not move
    /// beyond noise): 4 bytes per band and slot, `slots` ≥ members.
    heads: Vec<u32>,
    chain: Vec<u32>,
    /// Slots per band: a power of two, at least the number of members (doubled as they come).
    slots: usize,
    /// Key → story of the documents added in this sync (re-cleaning keeps them).
    assigned: HashMap<String, u64>,
}

impl<'a> StoryBook<'a> {
    pub(super) fn new(
        searcher: Searcher,
        fields: &'a Fields,
        stale: impl IntoIterator<Item = String>,
    ) -> StoryBook<'a> {
        StoryBook {
            searcher,
            fields,
            stale: stale.into_iter().collect(),
            batch: Vec::new(),
            heads: vec![END; story::BANDS * MIN_SLOTS],
            chain: Vec::new(),
            slots: MIN_SLOTS,
            assigned: HashMap::default(),
        }
    }

    /// A committed document that is replaced or removed in this sync.
    pub(super) fn mark_stale(&mut self, key: &str) {
        self.stale.insert(key.to_owned());
    }

    /// The story this sync gave `key`, if it added it.
    pub(super) fn assigned(&self, key: &str) -> Option<u64> {
        self.assigned.get(key).copied()
    }

    /// The story of a new article with ingest number `seq`: the story of the most similar
    /// candidate that passes the bar (ties: the lower story id), or a new one (`seq`).
    pub(super) fn assign(
        &mut self,
        key: &str,
        seq: u64,
        sig: Option<&Signature>,
        date: Option<NaiveDate>,
    ) -> u64 {
        let story = match sig {
            Some(sig) => self.best_match(sig, date).unwrap_or(seq),
            None => seq,
        };
        self.remember(key, story, sig, date);
        story
    }

    /// Records an article added with a known story (re-cleaned, keeping its story).
    pub(super) fn remember(
        &mut self,
        key: &str,
        story: u64,
        sig: Option<&Signature>,
        date: Option<NaiveDate>,
    ) {
        self.assigned.insert(key.to_owned(), story);
        if let Some(sig) = sig {
            if self.batch.len() >= self.slots {
                self.grow();
            }
            let at = self.batch.len() as u32;
            self.link(at, sig);
            self.batch.push(Member {
                key: key.to_owned(),
                story,
                sig: sig.clone(),
                date,
            });
        }
    }

    /// The slot of band `band`'s `key` in [`StoryBook::heads`].
    fn slot(&self, band: usize, key: u64) -> usize {
        band * self.slots + (key as usize & (self.slots - 1))
    }

    /// Makes member `at` the head of its slot in every band.
    fn link(&mut self, at: u32, sig: &Signature) {
        for (band, key) in sig.band_keys().into_iter().enumerate() {
            let slot = self.slot(band, key);
            self.chain.push(self.heads[slot]);
            self.heads[slot] = at;
        }
    }

    /// Doubles the slots and links every member again, in order.
    fn grow(&mut self) {
        self.slots *= 2;
        self.heads = vec![END; story::BANDS * self.slots];
        self.chain.clear();
        let batch = std::mem::take(&mut self.batch);
        for (at, member) in batch.iter().enumerate() {
            self.link(at as u32, &member.sig);
        }
        self.batch = batch;
    }

    fn best_match(&self, sig: &Signature, date: Option<NaiveDate>) -> Option<u64> {
        let mut best: Option<(f32, u64)> = None;
        let mut consider = |similarity: f32, other_date: Option<NaiveDate>, story: u64| {
            if similarity < story::bar(date, other_date) {
                return;
            }
            let better = match best {
                None => true,
                Some((s, id)) => similarity > s || (similarity == s && story < id),
            };
            if better {
                best = Some((similarity, story));
            }
        };
        let keys = sig.band_keys();
        let mut seen: HashSet<u32> = HashSet::default();
        for (b, band) in keys.iter().enumerate() {
            let mut at = self.heads[self.slot(b, *band)];
            while at != END {
                if seen.insert(at) {
                    let m = &self.batch[at as usize];
                    // The latest version of a key is the one that counts.
                    if self.assigned.get(&m.key) == Some(&m.story) {
                        consider(sig.containment(&m.sig), m.date, m.story);
                    }
                }
                at = self.chain[at as usize * story::BANDS + b];
            }
        }
        for (similarity, other_date, story) in self.committed_candidates(sig, date) {
            consider(similarity, other_date, story);
        }
        best.map(|(_, story)| story)
    }

    /// (containment, date, story) of the committed, live, not stale documents that share a
    /// band bucket and pass the bar. Read errors leave a candidate out (the article then
    /// starts its own story).
    fn committed_candidates(
        &self,
        sig: &Signature,
        date: Option<NaiveDate>,
    ) -> Vec<(f32, Option<NaiveDate>, u64)> {
        let terms = sig.bucket_terms();
        let mut out = Vec::new();
        for segment in self.searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.fields.lsh) else {
                continue;
            };
            let mut docs: Vec<u32> = Vec::new();
            for &bucket in &terms {
                let term = Term::from_field_u64(self.fields.lsh, bucket);
                let Ok(Some(mut postings)) =
                    inverted.read_postings(&term, IndexRecordOption::Basic)
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    docs.push(doc);
                    doc = postings.advance();
                }
            }
            if docs.is_empty() {
                continue;
            }
            docs.sort_unstable();
            docs.dedup();
            let ff = segment.fast_fields();
            let (Ok(Some(sigs)), Ok(Some(keys_col)), Ok(stories), Ok(dates)) = (
                ff.bytes(schema::SIG),
                ff.str(schema::names::KEY),
                ff.u64(schema::STORY),
                ff.i64(schema::names::DATE),
            ) else {
                continue;
            };
            let alive = segment.alive_bitset();
            let mut bytes = Vec::new();
            let mut key = String::new();
            for doc in docs {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                // Most candidates share a bucket by chance: compare first, read the key after.
                bytes.clear();
                let Some(ord) = sigs.term_ords(doc).next() else {
                    continue;
                };
                if !sigs.ord_to_bytes(ord, &mut bytes).unwrap_or(false) {
                    continue;
                }
                let Some(other) = Signature::from_bytes(&bytes) else {
                    continue;
                };
                let other_date = dates.first(doc).and_then(from_date_key);
                let containment = sig.containment(&other);
                if containment < story::bar(date, other_date) {
                    continue;
                }
                key.clear();
                let Some(ord) = keys_col.term_ords(doc).next() else {
                    continue;
                };
                if !keys_col.ord_to_str(ord, &mut key).unwrap_or(false) || self.stale.contains(&key)
                {
                    continue;
                }
                let Some(story) = stories.first(doc) else {
                    continue;
                };
                out.push((containment, other_date, story));
            }
        }
        out
    }
}
