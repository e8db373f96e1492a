//! The tantivy schema. Display fields are stored as written; the `*_w` (jieba words) and
//! `*_b` (CJK bigrams) fields are indexed from the folded text and never stored.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::text::{ATOMS_TOKENIZER, BIGRAM_TOKENIZER, WORDS_TOKENIZER};

/// Bump when the schema or the analysis changes: an index written with another version is
/// rebuilt from the seeds on open. 2: folding by OpenCC instead of zhconv. 3: the `atoms`
/// field (whole Latin/digit ids) and positions in the bigram fields (exact character
/// sequences of query words). 4: `text_state` (title-only, deleted and anti-bot pages). 5:
/// bylines removed, titles over several lines of the front matter read whole. 6: a byline
/// is the whole leading run of names around a marker, role line or date. 7: stories
/// (`story`, `lsh`, `sig`: reposts grouped, see `crate::story`). 8: bodies read by parsers
/// (table cells apart, list items and bare URLs kept), `links`, ids found inside glued runs,
/// URL terms indexed. 9: a long sentence is learned chrome only on `SENTENCE_MIN_FILES`
/// articles of its source (bodies cleaned under the old rule are cleaned again); `content_key`.
pub const SCHEMA_VERSION: u32 = 9;

/// Field names, in one place: the schema is built from them, and every reader of fast fields
/// (which tantivy looks up by name) uses them, so a renamed field cannot leave a reader
/// silently reading nothing.
pub mod names {
    pub const KEY: &str = "key";
    pub const ID: &str = "id";
    pub const TITLE: &str = "title";
    pub const BODY: &str = "body";
    pub const LINKS: &str = "links";
    pub const SOURCE: &str = "source";
    pub const SOURCE_KEY: &str = "source_key";
    pub const URL: &str = "url";
    pub const URL_KEY: &str = "url_key";
    pub const CONTENT_KEY: &str = "content_key";
    pub const DATE: &str = "date";
    pub const FETCH_DATE: &str = "fetch_date";
    pub const MTIME: &str = "mtime";
    pub const SIZE: &str = "size";
    pub const INDEXED_AT: &str = "indexed_at";
    pub const SEQ: &str = "seq";
    pub const TITLE_W: &str = "title_w";
    pub const BODY_W: &str = "body_w";
    pub const TITLE_B: &str = "title_b";
    pub const BODY_B: &str = "body_b";
    pub const ATOMS: &str = "atoms";
    pub const TEXT_STATE: &str = "text_state";
    pub const STORY: &str = "story";
    pub const LSH: &str = "lsh";
    pub const SIG: &str = "sig";
}

pub use names::{SIG, STORY, TEXT_STATE};

/// Handles to every field.
#[derive(Clone, Debug)]
pub struct Fields {
    pub key: Field,
    pub id: Field,
    pub title: Field,
    pub body: Field,
    /// The body's links ([`crate::corpus::markup::links_to_stored`]); absent when none.
    pub links: Field,
    pub source: Field,
    pub source_key: Field,
    pub url: Field,
    pub url_key: Field,
    /// The file's content identity (see `corpus::identity::content_key`).
    pub content_key: Field,
    pub date: Field,
    pub fetch_date: Field,
    pub mtime: Field,
    pub size: Field,
    pub indexed_at: Field,
    pub seq: Field,
    pub title_w: Field,
    pub body_w: Field,
    pub title_b: Field,
    pub body_b: Field,
    /// Compound Latin/digit tokens of title and body, whole (`cve-2024-3400`, `gpt-4o`).
    pub atoms: Field,
    /// [`crate::corpus::status::TextState::code`]: 0 for an article with text.
    pub text_state: Field,
    /// The story the article belongs to (see `index::stories`): the ingest number of the
    /// story's first article. Every article has one; most are alone in theirs.
    pub story: Field,
    /// The signature's band buckets ([`crate::story::Signature::bucket_terms`]), to find candidates.
    pub lsh: Field,
    /// The MinHash signature ([`crate::story::Signature::to_bytes`]); absent for short texts.
    pub sig: Field,
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let bigrams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(BIGRAM_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let atoms = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ATOMS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field(names::KEY, STRING | STORED | FAST),
        id: b.add_text_field(names::ID, STRING | STORED),
        title: b.add_text_field(names::TITLE, STORED),
        body: b.add_text_field(names::BODY, STORED),
        links: b.add_text_field(names::LINKS, STORED),
        source: b.add_text_field(names::SOURCE, STORED),
        source_key: b.add_text_field(names::SOURCE_KEY, STRING | FAST),
        url: b.add_text_field(names::URL, STORED),
        url_key: b.add_text_field(names::URL_KEY, STRING | FAST),
        content_key: b.add_text_field(names::CONTENT_KEY, STRING | FAST),
        date: b.add_i64_field(names::DATE, INDEXED | STORED | FAST),
        fetch_date: b.add_i64_field(names::FETCH_DATE, STORED),
        mtime: b.add_u64_field(names::MTIME, FAST),
        size: b.add_u64_field(names::SIZE, FAST),
        indexed_at: b.add_i64_field(names::INDEXED_AT, INDEXED | STORED | FAST),
        seq: b.add_u64_field(names::SEQ, INDEXED | STORED | FAST),
        title_w: b.add_text_field(names::TITLE_W, words.clone()),
        body_w: b.add_text_field(names::BODY_W, words),
        title_b: b.add_text_field(names::TITLE_B, bigrams.clone()),
        body_b: b.add_text_field(names::BODY_B, bigrams),
        atoms: b.add_text_field(names::ATOMS, atoms),
        text_state: b.add_u64_field(names::TEXT_STATE, STORED | FAST),
        story: b.add_u64_field(names::STORY, INDEXED | STORED | FAST),
        lsh: b.add_u64_field(names::LSH, INDEXED),
        sig: b.add_bytes_field(names::SIG, FAST),
    };
    (b.build(), fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_a_field_of_the_schema() {
        let (schema, _) = build();
        for name in [
            names::KEY,
            names::ID,
            names::TITLE,
            names::BODY,
            names::LINKS,
            names::SOURCE,
            names::SOURCE_KEY,
            names::URL,
            names::URL_KEY,
            names::CONTENT_KEY,
            names::DATE,
            names::FETCH_DATE,
            names::MTIME,
            names::SIZE,
            names::INDEXED_AT,
            names::SEQ,
            names::TITLE_W,
            names::BODY_W,
            names::TITLE_B,
            names::BODY_B,
            names::ATOMS,
            names::TEXT_STATE,
            names::STORY,
            names::LSH,
            names::SIG,
        ] {
            assert!(schema.get_field(name).is_ok(), "{name}");
        }
        assert_eq!(
            schema.fields().count(),
            25,
            "a field without a name constant"
        );
    }
}
