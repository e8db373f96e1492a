//! Search results one story at a time: reposts of an article are folded into the copy that
//! ranks best, and listed under it (see `index::stories` for how stories are made).

use rustc_hash::FxHashSet as HashSet;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyDocument, Term,
};

use super::Copy;
use crate::index::schema::STORY;
use crate::index::{Fields, Stored};

/// Most copies listed under one hit (a wire story run by dozens of sites).
pub const MAX_COPIES: usize = 20;

/// The story of each segment's documents, read once per segment.
struct StoryColumns<'a> {
    searcher: &'a Searcher,
    columns: Vec<Option<Column<u64>>>,
}

impl<'a> StoryColumns<'a> {
    fn new(searcher: &'a Searcher) -> StoryColumns<'a> {
        StoryColumns {
            searcher,
            columns: vec![None; searcher.segment_readers().len()],
        }
    }

    fn story(&mut self, address: DocAddress) -> tantivy::Result<Option<u64>> {
        let slot = &mut self.columns[address.segment_ord as usize];
        if slot.is_none() {
            let reader = self.searcher.segment_reader(address.segment_ord);
            *slot = Some(reader.fast_fields().u64(STORY)?);
        }
        Ok(slot.as_ref().and_then(|c| c.first(address.doc_id)))
    }
}

/// The first document of each story, in the given (ranked) order.
pub fn first_of_each(
    searcher: &Searcher,
    ranked: Vec<(f32, DocAddress)>,
) -> tantivy::Result<Vec<(f32, DocAddress)>> {
    let mut columns = StoryColumns::new(searcher);
    let mut seen = HashSet::default();
    let mut out = Vec::with_capacity(ranked.len());
    for (score, address) in ranked {
        // Every document has a story; one without would stand alone.
        if columns
            .story(address)?
            .is_none_or(|story| seen.insert(story))
        {
            out.push((score, address));
        }
    }
    Ok(out)
}

/// The other live copies of `story` besides the document at `hit`, oldest first.
pub fn copies(
    searcher: &Searcher,
    f: &Fields,
    story: u64,
    hit: DocAddress,
) -> tantivy::Result<Vec<Copy>> {
    let term = Term::from_field_u64(f.story, story);
    let mut addresses = Vec::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let Some(mut postings) = segment
            .inverted_index(f.story)?
            .read_postings(&term, IndexRecordOption::Basic)?
        else {
            continue;
        };
        let alive = segment.alive_bitset();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let address = DocAddress::new(ord as SegmentOrdinal, doc);
            if address != hit && alive.is_none_or(|a| a.is_alive(doc)) {
                addresses.push(address);
            }
            doc = postings.advance();
        }
    }
    let mut out = Vec::with_capacity(addresses.len().min(MAX_COPIES));
    for address in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        out.push(copy_of(f, &doc));
    }
    out.sort_by_key(|c| c.seq);
    out.truncate(MAX_COPIES);
    Ok(out)
}

fn copy_of(f: &Fields, doc: &TantivyDocument) -> Copy {
    let stored = Stored::new(f, doc);
    Copy {
        id: stored.text(f.id),
        seq: stored.seq(),
        title: stored.text(f.title),
        source: stored.text(f.source),
        url: stored.text(f.url),
        date: stored.date(),
    }
}

/// Counts the distinct stories of the matching documents (every document has one).
pub struct DistinctStories;

/// A set of story ids. Ids are ingest numbers, dense from 0: a bitset up to a bound, which
/// costs a bit per id ever handed out and no hashing (a hash set of the stories of a query
/// matching half of 97,970 articles was half of that query's time).
#[derive(Debug)]
pub enum StorySet {
    Bits(Vec<u64>),
    Hashed(rustc_hash::FxHashSet<u64>),
}

impl StorySet {
    /// Ids up to this many are kept as bits (8 MB at most).
    const MAX_BITS: u64 = 1 << 26;

    fn for_ids_up_to(max: u64) -> StorySet {
        if max < Self::MAX_BITS {
            StorySet::Bits(vec![0; (max / 64 + 1) as usize])
        } else {
            StorySet::Hashed(Default::default())
        }
    }

    fn insert(&mut self, id: u64) {
        match self {
            StorySet::Bits(words) => {
                let i = (id / 64) as usize;
                if i >= words.len() {
                    words.resize(i + 1, 0);
                }
                words[i] |= 1 << (id % 64);
            }
            StorySet::Hashed(set) => {
                set.insert(id);
            }
        }
    }

    fn ids(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            StorySet::Bits(words) => Box::new(words.iter().enumerate().flat_map(|(i, &w)| {
                (0..64)
                    .filter(move |b| w & (1 << b) != 0)
                    .map(move |b| i as u64 * 64 + b)
            })),
            StorySet::Hashed(set) => Box::new(set.iter().copied()),
        }
    }

    fn union(mut self, other: StorySet) -> StorySet {
        match (&mut self, other) {
            (StorySet::Bits(a), StorySet::Bits(b)) => {
                if a.len() < b.len() {
                    a.resize(b.len(), 0);
                }
                for (x, y) in a.iter_mut().zip(&b) {
                    *x |= y;
                }
            }
            (_, other) => other.ids().for_each(|id| self.insert(id)),
        }
        self
    }

    fn len(&self) -> usize {
        match self {
            StorySet::Bits(words) => words.iter().map(|w| w.count_ones() as usize).sum(),
            StorySet::Hashed(set) => set.len(),
        }
    }
}

pub struct SegmentStories {
    column: Column<u64>,
    stories: StorySet,
}

impl Collector for DistinctStories {
    type Fruit = usize;
    type Child = SegmentStories;

    fn for_segment(
        &self,
        _segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentStories> {
        let column = segment.fast_fields().u64(STORY)?;
        let stories = StorySet::for_ids_up_to(column.max_value());
        Ok(SegmentStories { column, stories })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<StorySet>) -> tantivy::Result<usize> {
        let all = fruits
            .into_iter()
            .reduce(StorySet::union)
            .map_or(0, |s| s.len());
        Ok(all)
    }
}

impl SegmentCollector for SegmentStories {
    type Fruit = StorySet;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(story) = self.column.first(doc) {
            self.stories.insert(story);
        }
    }

    fn harvest(self) -> StorySet {
        self.stories
    }
}

#[cfg(test)]
mod tests {
    use super::StorySet;

    #[test]
    fn story_sets_count_distinct_ids_as_bits_or_hashed() {
        let mut bits = StorySet::for_ids_up_to(200);
        let mut hashed = StorySet::for_ids_up_to(u64::MAX);
        for id in [3, 64, 3, 199, 0] {
            bits.insert(id);
            hashed.insert(id);
        }
        // An id above the bound the set was made for still counts.
        bits.insert(1_000);
        assert!(matches!(bits, StorySet::Bits(_)));
        assert!(matches!(hashed, StorySet::Hashed(_)));
        assert_eq!(bits.len(), 5);
        assert_eq!(hashed.len(), 4);
        let mut other = StorySet::for_ids_up_to(10);
        other.insert(5);
        other.insert(64);
        assert_eq!(bits.union(other).len(), 6);
        let mut ids: Vec<u64> = hashed.union(StorySet::for_ids_up_to(1)).ids().collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![0, 3, 64, 199]);
    }
}
