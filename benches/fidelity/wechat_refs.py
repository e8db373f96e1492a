#!/usr/bin/env python3
"""Materializes the hand-checked WeChat references (wechat_refs.tsv) as a scoring set.

    python3 benches/fidelity/wechat_refs.py ../shared/corpus/wechat /tmp/fidelity-wechat [--only-listed]

Writes OUT_DIR/pages/ (copies of the corpus files), OUT_DIR/refs/<name>.txt (the article
lines of each listed page, in file order, markdown stripped as score.py does, blank lines
dropped) and OUT_DIR/manifest.tsv (first 20 pages `tune`, last 10 `heldout`).

By default pages/ links the whole corpus, not only the 30 listed pages: a reader that learns
chrome from the collection (lines recurring across a source's pages) must see it all to learn
what it would learn in use. score.py only scores the pages in the manifest. --only-listed
links the listed pages alone.
"""
import argparse
import os
import shutil
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The sibling modules are imported, not installed: no __pycache__ left in the repository.
sys.dont_write_bytecode = True
from score import strip_markdown  # noqa: E402

TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wechat_refs.tsv')
TUNE_PAGES = 20


def parse_ranges(spec):
    """`14-20,23` -> [(14, 20), (23, 23)], 1-based inclusive."""
    out = []
    for part in spec.split(','):
        a, _, b = part.strip().partition('-')
        out.append((int(a), int(b or a)))
    return out


def read_tsv(path=TSV):
    """[(file name, ranges, split)] in file order."""
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip() or line.startswith('#'):
                continue
            name, spec = line.rstrip('\n').split('\t')[:2]
            rows.append((name, parse_ranges(spec)))
    return [(n, r, 'tune' if i < TUNE_PAGES else 'heldout') for i, (n, r) in enumerate(rows)]


def features(ref_lines, raw_lines):
    """What the page's article text holds, for the manifest's injections column (score.py
    reports recall per value)."""
    raw = '\n'.join(raw_lines)
    ref = '\n'.join(ref_lines)
    found = []
    if re.search(r'https?://', ref):
        found.append('url')
    if '```' in raw:
        found.append('code')
    if re.search(r'^\s*\|.*\|\s*$', raw, re.M) or '<table' in raw:
        found.append('table')
    if re.search(r'^\s*(?:[-*+•]|\d+[.)])[\s\u00a0]', raw, re.M):
        found.append('list')
    return found or ['-']


def article_lines(lines, ranges):
    """The raw lines in `ranges` (1-based inclusive), in file order."""
    return [lines[i - 1] for a, b in ranges for i in range(a, b + 1) if i <= len(lines)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('wechat_dir')
    ap.add_argument('out_dir')
    ap.add_argument('--only-listed', action='store_true', help='link only the 30 listed pages')
    args = ap.parse_args()

    wechat = os.path.abspath(args.wechat_dir)
    rows = read_tsv()
    pages = os.path.join(args.out_dir, 'pages')
    refs = os.path.join(args.out_dir, 'refs')
    os.makedirs(pages, exist_ok=True)
    os.makedirs(refs, exist_ok=True)

    names = [n for n, _, _ in rows] if args.only_listed else sorted(
        f for f in os.listdir(wechat) if f.endswith('.txt'))
    for f in names:
        link = os.path.join(pages, f)
        if os.path.lexists(link):
            os.remove(link)
        # A copy, not a symlink: the reader does not follow links out of its folder.
        shutil.copyfile(os.path.join(wechat, f), link)

    manifest = ['name\tsource\tsplit\tinjections']
    for f, ranges, split in rows:
        with open(os.path.join(wechat, f), encoding='utf-8') as fh:
            lines = fh.read().split('\n')
        m = next((l for l in lines[:12] if l.startswith('source:')), 'source: ?')
        source = m.split(':', 1)[1].strip()
        raw = article_lines(lines, ranges)
        # Lines with no letter or digit left (images, code fences, table rules, zero-width
        # spacers) score nothing; dropping them keeps the reference readable.
        ref = [l for l in strip_markdown('\n'.join(raw)).split('\n') if any(c.isalnum() for c in l)]
        name = f[:-len('.txt')]
        with open(os.path.join(refs, name + '.txt'), 'w', encoding='utf-8') as out:
            out.write('\n'.join(ref) + '\n')
        manifest.append(f'{name}\t{source}\t{split}\t{",".join(features(ref, raw))}')
    with open(os.path.join(args.out_dir, 'manifest.tsv'), 'w', encoding='utf-8') as out:
        out.write('\n'.join(manifest) + '\n')
    print(f'{len(rows)} references, {len(names)} pages linked in {args.out_dir}')


if __name__ == '__main__':
    main()
