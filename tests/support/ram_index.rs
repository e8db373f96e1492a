//! An index in memory with a segment layout the caller chooses: one writer thread and a
//! commit per segment, so a crash that depends on which documents share a segment reproduces.
//! Used by `tests/fuzz_regressions.rs` and, by path, by the fuzz target `query_parser`.

use tantivy::{Index, Searcher};

use jianbao::index::{self, Fields};

/// Builds the index from seed files (their bytes, as `corpus::parse` reads them), segment by
/// segment, with the documents a sync would write. Panics on input `parse` rejects: callers
/// pass articles they wrote.
pub fn ram_index(segments: &[&[&[u8]]]) -> (Searcher, Fields) {
    let (schema, f) = index::schema::build();
    let index = Index::create_in_ram(schema);
    index::register_tokenizers(&index);
    let mut writer = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("index writer");
    let mut seq = 0;
    for segment in segments {
        for bytes in *segment {
            let id = format!("doc{seq}");
            let article = jianbao::corpus::parse(&id, bytes).expect("a valid seed file");
            writer
                .add_document(index::document(&f, &format!("{id}.txt"), article, seq))
                .expect("add document");
            seq += 1;
        }
        writer.commit().expect("commit");
    }
    let searcher = index.reader().expect("reader").searcher();
    (searcher, f)
}
