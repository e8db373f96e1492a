#!/usr/bin/env python3
"""What search hits show as their excerpt: page chrome, status-page text, a byline, nothing.

    cargo build --release
    python3 benches/quality/excerpt_report.py SEEDS_DIR DATA_DIR QUERIES_TSV
    # e.g. ../shared/corpus/wechat /tmp/wechat-data /tmp/qsets/wechat/queries.tsv

First `jianbao index --chrome` (the index summary: status pages and title-only scrapes kept by
title; the boilerplate lines learned from the collection, with counts). Then the set's queries
and ten generic ones through `jianbao search` (batch mode, top 10), counting the distinct hits
whose excerpt contains a listed chrome or status string or a learned line, starts with a
byline, is blank, or is a no-text marker.
"""
import json, subprocess, sys, os, re
seeds, data, queries = sys.argv[1], sys.argv[2], sys.argv[3]
binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../target/release/jianbao')
index = subprocess.run([binary,'--seeds-dir',seeds,'--data-dir',data,'index','--chrome'],
                       capture_output=True, text=True).stdout.splitlines()
learned = []  # (source or None for everywhere, text)
for line in index:
    if not line.startswith('    ') and not line.startswith('learned chrome:'):
        print(line)
    m = re.match(r'^\s+\d+/\d+\s+(.*?): (.*)$', line)
    if m:
        learned.append((m.group(1), m.group(2)))
    m = re.match(r'^\s+\d+ in \d+ sources: (.*)$', line)
    if m:
        learned.append((None, m.group(1)))
print(f"learned chrome lines: {len(learned)} (`jianbao index --chrome` lists them with counts)")
norm = lambda t: re.sub(r'[\s\u00a0\u200b-\u200d\ufeff\u3000]+', '', t).lower()
# A learned line counts where the excerpt has it as a whole line (between line breaks, which
# excerpts show as spaces, or the excerpt's ends): `360CERT` is a learned line of its source
# and also the start of many of its sentences. Lines of under 4 characters are not checked.
learned_re = [(src, t, re.compile(r'(^|[\s…])' + re.escape(t.strip()) + r'($|[\s…])'))
              for src, t in learned if len(norm(t)) >= 4]
qs = [l.rstrip('\n').split('\t')[1] for l in open(queries) if l.strip()]
qs += ["漏洞", "安全", "通告", "勒索", "数据", "攻击", "人工智能", "政策", "报告", "网络安全"]
CHROME = ["该内容已被发布者删除", "环境异常", "完成验证", "去验证", "微信公众平台运营中心", "微信扫一扫",
          "轻点两下", "预览时标签不可点", "阅读原文", "求分享", "求点赞", "求在看", "点击上方", "关注我们"]
BYLINE = ["原创 ", "作者：", "作者:"]
out = subprocess.run([binary,'--seeds-dir',seeds,'--data-dir',data,'search','--limit','10'],
                     input=''.join(q+'\n' for q in qs), capture_output=True, text=True).stdout.splitlines()
hits = {}
for line in out:
    for h in json.loads(line)['hits']:
        hits[h['id']] = (h['source'], h['excerpt'])
bad = {k: [c for c in CHROME if c in e] + [t for s, t, r in learned_re if s in (None, src) and r.search(e)]
       for k, (src, e) in hits.items()}
hits = {k: e for k, (_, e) in hits.items()}
bad = {k: v for k, v in bad.items() if v}
by = [k for k, e in hits.items() if any(e.lstrip('…').startswith(b) for b in BYLINE)]
empty = [k for k, e in hits.items() if not e.strip()]
marker = [k for k, e in hits.items() if e.startswith('（') and e.endswith('）') and '正文' in e or '仅存标题' in e]
share = 100 * len(bad) / max(1, len(hits))
print(f"{len(qs)} queries, {len(hits)} distinct hits: listed or learned chrome/status in excerpt {len(bad)} ({share:.1f} %), byline first {len(by)}, blank {len(empty)}, no-text marker {len(marker)}")
from collections import Counter
c = Counter(x for v in bad.values() for x in v)
print("chrome seen:", dict(c))
for k in list(bad)[:8]: print("  ", k, hits[k][:80])
for k in by[:5]: print("  byline", k, hits[k][:80])
