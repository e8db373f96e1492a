//! Stage 4 of a search, presentation: ranked documents → hits with their title, source, date
//! and an excerpt with the query's terms highlighted.

use tantivy::schema::Field;
use tantivy::{Searcher, TantivyDocument};

use super::analyze::{self, Analysis, TermKind};
use super::excerpt::{self, Excerpt, Needle};
use super::execute::Ranked;
use super::plan::{self, Plan, TermStat};
use super::query::UserQuery;
use super::{Hit, SearchError, stories};
use crate::corpus::status::TextState;
use crate::index::{Fields, Stored};

/// The hits of a page: each document with its excerpt and its story's other copies.
pub fn hits(
    searcher: &Searcher,
    f: &Fields,
    analysis: &Analysis,
    plan: &Plan,
    page: Ranked,
    excerpt_chars: usize,
) -> Result<Vec<Hit>, SearchError> {
    let mut needles = needles_of(&plan.stats, &analysis.lone_chars);
    needles.extend(
        plan.hints
            .iter()
            .map(|(text, weight)| Needle::hint(text.clone(), *weight * HINT_FACTOR)),
    );
    if analysis.wants_number {
        let strongest = needles.iter().map(|n| n.weight).fold(0.0, f32::max);
        needles.push(Needle::number(strongest * NUMBER_FACTOR));
    }
    let mut out = Vec::with_capacity(page.len());
    for (score, address) in page {
        let doc: TantivyDocument = searcher.doc(address)?;
        let mut hit = hit_from_doc(f, &doc, score, &needles, excerpt_chars);
        hit.also = stories::copies(searcher, f, hit.story, address)?;
        out.push(hit);
    }
    Ok(out)
}

/// Builds a [`Hit`] from a stored document.
pub fn hit_from_doc(
    f: &Fields,
    doc: &TantivyDocument,
    score: f32,
    needles: &[Needle],
    excerpt_chars: usize,
) -> Hit {
    let stored = Stored::new(f, doc);
    let text = |field: Field| stored.text(field);
    let body = text(f.body);
    let state = stored.state();
    let excerpt = match state {
        TextState::Text => excerpt::excerpt_titled(&body, &text(f.title), needles, excerpt_chars),
        _ => Excerpt::unhighlighted(state.marker()),
    };
    Hit {
        key: text(f.key),
        id: text(f.id),
        title: text(f.title),
        url: text(f.url),
        source: text(f.source),
        date: stored.date(),
        score,
        excerpt,
        seq: stored.seq(),
        story: stored.story(),
        also: Vec::new(),
    }
}

/// A hint bigram counts this much of its rarity when the excerpt's sentence is chosen: less
/// than a term, which the user typed whole.
const HINT_FACTOR: f32 = 0.5;

/// A number, in a sentence with the subject of a question that asks how much or when, counts
/// this much of the query's strongest word. On cmrc-trial and cmrc-trial-x, 207 questions ask
/// for a number; 0.5, 1 and 2 gave the same excerpts (a number rarely outweighs the words).
const NUMBER_FACTOR: f32 = 0.5;

/// What to highlight in excerpts: the query's terms whole (never a lone character of a
/// word, never a function word), weighted by rarity; phrases count double.
pub fn needles(searcher: &Searcher, f: &Fields, q: &UserQuery) -> Vec<Needle> {
    let analysis = analyze::analyze(q.clone());
    needles_of(
        &plan::term_stats(searcher, f, analysis.terms),
        &analysis.lone_chars,
    )
}

fn needles_of(stats: &[TermStat], lone_chars: &[String]) -> Vec<Needle> {
    let terms = stats.iter().filter(|s| !s.missing).map(|s| {
        let weight = match s.term.kind {
            TermKind::Phrase => s.weight * 2.0,
            _ => s.weight,
        };
        Needle::text(s.term.folded.clone(), weight)
    });
    let typed = lone_chars.iter().map(|c| Needle::text(c.clone(), 1.0));
    terms.chain(typed).collect()
}
