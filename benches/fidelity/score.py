#!/usr/bin/env python3
"""Fidelity of the archived text: how much of the article it keeps, how little chrome.

    python3 benches/fidelity/score.py SET_DIR ARCHIVED_DIR [--worst 10] [--json]

SET_DIR is a set made by make_set.py or wechat_refs.py: manifest.tsv (name, source, split,
injections), pages/<name>.txt (the scraped page) and refs/<name>.txt (the article text, one
paragraph, row or list item a line). ARCHIVED_DIR/<name>.txt is the text the reader archived
for that page; a missing file counts as an empty text.

Each text is normalized (see `normalize`) and compared with the reference as multisets of
character bigrams: precision = |A∩R|/|A|, recall = |A∩R|/|R|. Bigrams rather than words
because Chinese has no spaces to split on, and rather than lines because the reader may join,
split or reformat lines (tables, lists, headings) without losing or adding text. The raw page
(front matter removed) is scored against the same reference in the same run, so the archived
numbers can be read against what doing nothing gives.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter

# Markdown images, links and autolinks. Link text may hold one level of brackets
# (`[[调研]小型企业CISO的五个关键要点](…)`), and a URL one level of parentheses.
IMAGE_RE = re.compile(r'!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"]*")?\)')
LINK_RE = re.compile(r'\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\)')
AUTOLINK_RE = re.compile(r'<((?:https?|ftp)://[^<>\s]+)>')
ESCAPE_RE = re.compile(r'\\([!-/:-@\[-`{-~])')
HEADING_RE = re.compile(r'^\s{0,3}#{1,6}(?:\s+|$)')
LIST_NUMBER_RE = re.compile(r'^\s*\d{1,3}[.)]\s+')
TABLE_SEP_RE = re.compile(r'^\s*\|?[\s:|-]*-[\s:|-]*\|?\s*$')


def _link(m):
    text, url = m.group(1), m.group(2)
    # A link counts as its text: that is what a reader sees. Where the text is empty or is the
    # URL itself (`[https://x](https://x)`), the URL is the text.
    return text if text.strip() and text.strip() != url.strip() else url


def strip_markdown(text):
    """Markdown as a reader sees it, line by line.

    The image, link and autolink rules and the ordered-list number change what is scored; the
    rest (escapes, heading marks, table pipes, bold marks) removes characters that `normalize`
    drops anyway, so that references written with it read as plain text.
    """
    out = []
    for line in text.split('\n'):
        line = IMAGE_RE.sub('', line)
        line = LINK_RE.sub(_link, line)
        line = AUTOLINK_RE.sub(r'\1', line)
        line = ESCAPE_RE.sub(r'\1', line)
        line = HEADING_RE.sub('', line)
        # An ordered list's number is layout, like `-` or `•`, but made of digits, which
        # `normalize` keeps: a reader writing `1. item` for a reference's `item` (or the other
        # way round) would otherwise differ by a bigram or two per item.
        line = LIST_NUMBER_RE.sub('', line)
        line = line.replace('**', '')
        if line.lstrip().startswith('|') and line.rstrip().endswith('|') and len(line.strip()) > 1:
            if TABLE_SEP_RE.match(line):
                line = ''
            else:
                cells = [c.strip() for c in line.strip()[1:-1].split('|')]
                line = ' | '.join(c for c in cells if c)
        out.append(line.strip())
    return '\n'.join(out)


def normalize(text):
    """Letters, digits and CJK only (Python's isalnum), ASCII lowercased.

    Whitespace, punctuation, `|`, `•`, `#` and `*` go, so neither layout nor list marks nor
    NBSP and zero-width characters count, only the text.
    """
    return ''.join(c.lower() if c.isascii() else c for c in strip_markdown(text) if c.isalnum())


def bigrams(norm):
    return Counter(norm[i:i + 2] for i in range(len(norm) - 1))


def page_body(path):
    """The page without its front matter (`---` … `---`), as the reader gets it."""
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    if lines and lines[0].strip() == '---':
        for i in range(1, len(lines)):
            if lines[i].strip() == '---':
                return '\n'.join(lines[i + 1:])
    return '\n'.join(lines)


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def read_manifest(set_dir):
    rows = []
    header = None
    with open(os.path.join(set_dir, 'manifest.tsv'), encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            cells = line.split('\t')
            if header is None:
                header = cells
                continue
            rows.append(dict(zip(header, cells)))
    return rows


class Score:
    """Bigram overlap of one text with its reference."""

    def __init__(self, text, ref_grams):
        self.grams = bigrams(normalize(text))
        self.size = sum(self.grams.values())
        self.ref = sum(ref_grams.values())
        self.inter = sum((self.grams & ref_grams).values())

    @property
    def precision(self):
        # An empty text kept no chrome; its loss shows in recall.
        return self.inter / self.size if self.size else 1.0

    @property
    def recall(self):
        return self.inter / self.ref if self.ref else 1.0


def coverage(line, grams):
    """Share of a line's bigrams found in `grams`, or None for a line of under two characters."""
    g = bigrams(normalize(line))
    n = sum(g.values())
    if n == 0:
        return None
    return sum(c for k, c in g.items() if k in grams) / n


def mostly_absent(lines, grams, limit=5):
    """Lines of which under half the bigrams are in `grams`: lost text or kept chrome."""
    found = []
    for line in lines:
        c = coverage(line, grams)
        if c is not None and c < 0.5:
            found.append(line.strip()[:80])
            if len(found) == limit:
                break
    return found


def summarize(pages, side):
    inter = sum(getattr(p, side).inter for p in pages)
    size = sum(getattr(p, side).size for p in pages)
    ref = sum(getattr(p, side).ref for p in pages)
    prec = inter / size if size else 1.0
    rec = inter / ref if ref else 1.0
    return {
        'pages': len(pages),
        'precision': round(prec, 4),
        'recall': round(rec, 4),
        'f1': round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
        'mean_page_recall': round(sum(getattr(p, side).recall for p in pages) / len(pages), 4) if pages else 0.0,
        'pages_recall_below_0_9': sum(1 for p in pages if getattr(p, side).recall < 0.9),
    }


class Page:
    def __init__(self, row, set_dir, archived_dir):
        self.name = row['name']
        self.split = row.get('split', 'tune')
        self.injections = [i for i in row.get('injections', '').split(',') if i and i != '-']
        self.ref_text = read(os.path.join(set_dir, 'refs', self.name + '.txt'))
        ref_grams = bigrams(normalize(self.ref_text))
        path = os.path.join(archived_dir, self.name + '.txt')
        self.missing = not os.path.exists(path)
        self.archived_text = '' if self.missing else read(path)
        self.archived = Score(self.archived_text, ref_grams)
        self.uncleaned = Score(page_body(os.path.join(set_dir, 'pages', self.name + '.txt')), ref_grams)
        self.ref_grams = ref_grams

    def lost(self):
        return mostly_absent(self.ref_text.split('\n'), self.archived.grams)

    def chrome(self):
        return mostly_absent(strip_markdown(self.archived_text).split('\n'), self.ref_grams)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('set_dir')
    ap.add_argument('archived_dir')
    ap.add_argument('--worst', type=int, default=10, help='pages listed by lowest recall and by lowest precision')
    ap.add_argument('--json', action='store_true', help='print the summary as JSON')
    args = ap.parse_args()

    pages = [Page(r, args.set_dir, args.archived_dir) for r in read_manifest(args.set_dir)]
    if not pages:
        sys.exit(f'no pages in {args.set_dir}/manifest.tsv')
    splits = [s for s in ('tune', 'heldout') if any(p.split == s for p in pages)]
    groups = {s: [p for p in pages if p.split == s] for s in splits}
    groups['all'] = pages
    summary = {s: {side: summarize(ps, side) for side in ('archived', 'uncleaned')} for s, ps in groups.items()}
    injections = sorted({i for p in pages for i in p.injections})
    by_injection = {}
    for inj in injections:
        ps = [p for p in pages if inj in p.injections]
        by_injection[inj] = {side: summarize(ps, side) for side in ('archived', 'uncleaned')}
    missing = [p.name for p in pages if p.missing]
    # The worst lists leave out missing files: they are listed apart, and would fill the list.
    present = [p for p in pages if not p.missing]
    worst_recall = sorted(present, key=lambda p: (p.archived.recall, p.name))[:args.worst]
    worst_precision = sorted(present, key=lambda p: (p.archived.precision, p.name))[:args.worst]

    if args.json:
        def brief(p):
            return {'name': p.name, 'split': p.split, 'precision': round(p.archived.precision, 4),
                    'recall': round(p.archived.recall, 4)}
        print(json.dumps({
            'set': args.set_dir, 'archived': args.archived_dir, 'splits': summary,
            'by_injection': by_injection, 'missing': missing,
            'worst_recall': [brief(p) for p in worst_recall],
            'worst_precision': [brief(p) for p in worst_precision],
        }, ensure_ascii=False, indent=1))
        return

    print(f'set {args.set_dir}  archived {args.archived_dir}  (character bigram multisets)')
    cols = 'P      R      F1     meanR  R<0.9'
    print(f'{"":16} pages | archived:  {cols} | uncleaned page:  {cols}')

    def row(label, s):
        def side(d):
            return (f'{d["precision"]:.3f}  {d["recall"]:.3f}  {d["f1"]:.3f}  '
                    f'{d["mean_page_recall"]:.3f}  {d["pages_recall_below_0_9"]:5d}')
        print(f'{label:16} {s["archived"]["pages"]:5d} | {"":10} {side(s["archived"])} | {"":16} {side(s["uncleaned"])}')

    for s, d in summary.items():
        row(s, d)
    if by_injection:
        print('pages with each injection (all splits):')
        for inj, d in by_injection.items():
            row('  ' + inj, d)
    print(f'missing archived files (scored as empty): {len(missing)}')
    for name in missing:
        print(f'  {name}')

    def show(title, ps):
        print(f'\n{title}')
        for p in ps:
            print(f'  {p.name}  [{p.split}]  R {p.archived.recall:.3f}  P {p.archived.precision:.3f}'
                  f'  {",".join(p.injections)}')
            for line in p.lost():
                print(f'      lost:   {line}')
            for line in p.chrome():
                print(f'      chrome: {line}')

    if args.worst <= 0:
        return
    show(f'worst {len(worst_recall)} by recall (lost: reference lines mostly missing; '
         'chrome: archived lines mostly not in the reference)', worst_recall)
    show(f'worst {len(worst_precision)} by precision', worst_precision)


if __name__ == '__main__':
    main()
