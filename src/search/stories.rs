//! Search results one story at a time: reposts of an article are folded into the copy that
//! ranks best, and listed under it (see `index::stories` for how stories are made).

use std::collections::HashSet;

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
    let mut seen = HashSet::new();
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

pub struct SegmentStories {
    column: Column<u64>,
    stories: HashSet<u64>,
}

impl Collector for DistinctStories {
    type Fruit = usize;
    type Child = SegmentStories;

    fn for_segment(
        &self,
        _segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentStories> {
        Ok(SegmentStories {
            column: segment.fast_fields().u64(STORY)?,
            stories: HashSet::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<HashSet<u64>>) -> tantivy::Result<usize> {
        let mut all = HashSet::new();
        for stories in fruits {
            all.extend(stories);
        }
        Ok(all.len())
    }
}

impl SegmentCollector for SegmentStories {
    type Fruit = HashSet<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.stories.extend(self.column.first(doc));
    }

    fn harvest(self) -> HashSet<u64> {
        self.stories
    }
}
