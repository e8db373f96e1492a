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
/// (`story`, `lsh`, `sig`: reposts grouped, see `crate::story`).
pub const SCHEMA_VERSION: u32 = 7;

/// Name of the `text_state` fast field (read by the ranking).
pub const TEXT_STATE: &str = "text_state";
/// Names of the story fast fields.
pub const STORY: &str = "story";
pub const SIG: &str = "sig";

/// Handles to every field.
#[derive(Clone, Debug)]
pub struct Fields {
    pub key: Field,
    pub id: Field,
    pub title: Field,
    pub body: Field,
    pub source: Field,
    pub source_key: Field,
    pub url: Field,
    pub url_key: Field,
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
        key: b.add_text_field("key", STRING | STORED | FAST),
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", STORED),
        body: b.add_text_field("body", STORED),
        source: b.add_text_field("source", STORED),
        source_key: b.add_text_field("source_key", STRING | FAST),
        url: b.add_text_field("url", STORED),
        url_key: b.add_text_field("url_key", STRING | FAST),
        date: b.add_i64_field("date", INDEXED | STORED | FAST),
        fetch_date: b.add_i64_field("fetch_date", STORED),
        mtime: b.add_u64_field("mtime", FAST),
        size: b.add_u64_field("size", FAST),
        indexed_at: b.add_i64_field("indexed_at", INDEXED | STORED | FAST),
        seq: b.add_u64_field("seq", INDEXED | STORED | FAST),
        title_w: b.add_text_field("title_w", words.clone()),
        body_w: b.add_text_field("body_w", words),
        title_b: b.add_text_field("title_b", bigrams.clone()),
        body_b: b.add_text_field("body_b", bigrams),
        atoms: b.add_text_field("atoms", atoms),
        text_state: b.add_u64_field(TEXT_STATE, STORED | FAST),
        story: b.add_u64_field(STORY, INDEXED | STORED | FAST),
        lsh: b.add_u64_field("lsh", INDEXED),
        sig: b.add_bytes_field(SIG, FAST),
    };
    (b.build(), fields)
}
