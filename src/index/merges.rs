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

/// Segments a sync that changes fewer than [`SMALL_SYNC`] files may merge: only those under
/// this size. Such a sync waits for its merges; the one-file change of a watcher must not
/// wait for a merge of the whole collection (2 s at 19,594 articles).
const SMALL_SYNC_INPUT: u32 = 1_000;

/// A sync of fewer files than this is small (see [`SMALL_SYNC_INPUT`]).
pub(super) const SMALL_SYNC: usize = 1_000;

#[derive(Debug, Clone, Copy)]
pub(super) struct BoundedMerges {
    /// Segments of this many documents or more are not merged.
    largest_input: u32,
}

impl BoundedMerges {
    /// The policy for a sync that reads or removes `files` files.
    pub(super) fn for_sync(files: usize) -> BoundedMerges {
        let largest_input = if files < SMALL_SYNC {
            SMALL_SYNC_INPUT
        } else {
            MAX_MERGED_DOCS / 2
        };
        BoundedMerges { largest_input }
    }
}

impl MergePolicy for BoundedMerges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        plan(
            segments
                .iter()
                .map(|s| (s.id(), s.num_docs()))
                .collect::<Vec<_>>(),
            self.largest_input,
        )
        .into_iter()
        .map(MergeCandidate)
        .collect()
    }
}

/// Groups of segments to merge, from (id, live documents), when there are more than
/// [`FEW_SEGMENTS`]: the segments under half the bound (and under `largest_input`), smallest
/// first, packed into groups of at least [`MIN_SEGMENTS`] that stay within it.
/// A segment at half the bound or more is left alone until deletions shrink it.
fn plan<Id: Copy>(mut segments: Vec<(Id, u32)>, largest_input: u32) -> Vec<Vec<Id>> {
    if segments.len() <= FEW_SEGMENTS {
        return Vec::new();
    }
    segments.retain(|&(_, docs)| docs < largest_input.min(MAX_MERGED_DOCS / 2));
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
        let groups = plan(segments, u32::MAX);
        // Four of 6,000 fit in 24,576: two groups of four, two segments left for later.
        assert_eq!(groups, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    }

    #[test]
    fn large_and_few_segments_are_left_alone() {
        assert!(
            plan(
                vec![(0, 20_000), (1, 20_000), (2, 13_000), (3, 100)],
                u32::MAX
            )
            .is_empty()
        );
        let mut few: Vec<(u32, u32)> = (0..8).map(|i| (i, 10)).collect();
        assert!(
            plan(few.clone(), u32::MAX).is_empty(),
            "eight segments stay"
        );
        few.push((8, 1));
        assert_eq!(plan(few, u32::MAX), vec![vec![8, 0, 1, 2, 3, 4, 5, 6, 7]]);
        let three_small: Vec<(u32, u32)> = (0..9)
            .map(|i| (i, if i < 3 { 10 } else { 20_000 }))
            .collect();
        assert!(
            plan(three_small, u32::MAX).is_empty(),
            "too few small ones to merge"
        );
    }

    #[test]
    fn a_small_sync_merges_only_small_segments() {
        // A build's segments and one new segment of one document.
        let segments = vec![
            (0, 4_129),
            (1, 4_013),
            (2, 3_872),
            (3, 3_838),
            (4, 1_801),
            (5, 1_409),
            (6, 296),
            (7, 236),
            (8, 1),
        ];
        assert!(plan(segments.clone(), SMALL_SYNC_INPUT).is_empty());
        assert_eq!(
            plan(segments, u32::MAX).len(),
            1,
            "a large sync merges them"
        );
        let tiny = vec![
            (0, 4_129),
            (1, 4_013),
            (2, 3_872),
            (3, 3_838),
            (4, 1_801),
            (5, 1),
            (6, 296),
            (7, 236),
            (8, 1),
        ];
        assert_eq!(plan(tiny, SMALL_SYNC_INPUT), vec![vec![5, 8, 7, 6]]);
    }

    #[test]
    fn no_group_exceeds_the_bound() {
        let segments: Vec<(u32, u32)> = (0..200).map(|i| (i, 1 + (i * 7_919) % 12_000)).collect();
        let sizes: std::collections::HashMap<u32, u32> = segments.iter().copied().collect();
        for group in plan(segments, u32::MAX) {
            assert!(group.len() >= MIN_SEGMENTS);
            assert!(group.iter().map(|id| sizes[id]).sum::<u32>() <= MAX_MERGED_DOCS);
        }
    }
}
