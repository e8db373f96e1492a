//! Which segments tantivy merges: small ones, into segments of bounded size.
//!
//! A merge reads its input segments through memory maps, and every page it reads counts in the
//! process's resident memory until the merge ends. Tantivy's default policy merges eight
//! segments of a size into one eight times larger, level after level: building 97,970 articles
//! ended with merges of ~45,000 documents (~150 MB of segment files) at once, and a larger
//! collection merges larger ones still. Bounding the merged size bounds that memory, and keeps
//! the number of segments (what a search visits) proportional to the collection.

use tantivy::SegmentMeta;
use tantivy::merge_policy::{MergeCandidate, MergePolicy};

/// Documents in a merged segment at most (~3.4 KB of segment files per article of the news
/// corpus: ~85 MB).
pub(super) const MAX_MERGED_DOCS: u32 = 24_576;

/// Fewer segments than this are not worth a merge.
const MIN_SEGMENTS: usize = 4;

/// An index with this many segments or fewer is left as it is: searching a few more segments
/// costs less than merging them (a build of 19,594 articles, four segments, took 1.5 s longer
/// with its final merge).
const FEW_SEGMENTS: usize = 8;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BoundedMerges;

impl MergePolicy for BoundedMerges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        plan(
            segments
                .iter()
                .map(|s| (s.id(), s.num_docs()))
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(MergeCandidate)
        .collect()
    }
}

/// Groups of segments to merge, from (id, live documents), when there are more than
/// [`FEW_SEGMENTS`]: the segments under half the bound, smallest first, packed into groups of
/// at least [`MIN_SEGMENTS`] that stay within it.
/// A segment at half the bound or more is left alone until deletions shrink it.
fn plan<Id: Copy>(mut segments: Vec<(Id, u32)>) -> Vec<Vec<Id>> {
    if segments.len() <= FEW_SEGMENTS {
        return Vec::new();
    }
    segments.retain(|&(_, docs)| docs < MAX_MERGED_DOCS / 2);
    segments.sort_by_key(|&(_, docs)| docs);
    let mut groups = Vec::new();
    let (mut group, mut total) = (Vec::new(), 0u32);
    for (id, docs) in segments {
        if total + docs > MAX_MERGED_DOCS {
            if group.len() >= MIN_SEGMENTS {
                groups.push(std::mem::take(&mut group));
            } else {
                group.clear();
            }
            total = 0;
        }
        group.push(id);
        total += docs;
    }
    if group.len() >= MIN_SEGMENTS {
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_segments_merge_within_the_bound() {
        let segments: Vec<(u32, u32)> = (0..10).map(|i| (i, 6_000)).collect();
        let groups = plan(segments);
        // Four of 6,000 fit in 24,576: two groups of four, two segments left for later.
        assert_eq!(groups, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    }

    #[test]
    fn large_and_few_segments_are_left_alone() {
        assert!(plan(vec![(0, 20_000), (1, 20_000), (2, 13_000), (3, 100)]).is_empty());
        let mut few: Vec<(u32, u32)> = (0..8).map(|i| (i, 10)).collect();
        assert!(plan(few.clone()).is_empty(), "eight segments stay");
        few.push((8, 1));
        assert_eq!(plan(few), vec![vec![8, 0, 1, 2, 3, 4, 5, 6, 7]]);
        let three_small: Vec<(u32, u32)> = (0..9)
            .map(|i| (i, if i < 3 { 10 } else { 20_000 }))
            .collect();
        assert!(plan(three_small).is_empty(), "too few small ones to merge");
    }

    #[test]
    fn no_group_exceeds_the_bound() {
        let segments: Vec<(u32, u32)> = (0..200).map(|i| (i, 1 + (i * 7_919) % 12_000)).collect();
        let sizes: std::collections::HashMap<u32, u32> = segments.iter().copied().collect();
        for group in plan(segments) {
            assert!(group.len() >= MIN_SEGMENTS);
            assert!(group.iter().map(|id| sizes[id]).sum::<u32>() <= MAX_MERGED_DOCS);
        }
    }
}
