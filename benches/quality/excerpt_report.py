#!/usr/bin/env python3
"""What search hits show as their excerpt: page chrome, status-page text, a byline, nothing.

    cargo build --release
    python3 benches/quality/excerpt_report.py SEEDS_DIR DATA_DIR QUERIES_TSV
    # e.g. ../shared/corpus/wechat /tmp/wechat-data /tmp/qsets/wechat/queries.tsv

Runs the set's queries and ten generic ones through `jianbao search` (batch mode, top 10) and
counts the distinct hits whose excerpt contains a listed chrome or status string, starts with
a byline, is blank, or is a no-text marker.
"""
import json, subprocess, sys, os
seeds, data, queries = sys.argv[1], sys.argv[2], sys.argv[3]
binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../target/release/jianbao')
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
        hits[h['id']] = h['excerpt']
bad = {k: [c for c in CHROME if c in e] for k, e in hits.items()}
bad = {k: v for k, v in bad.items() if v}
by = [k for k, e in hits.items() if any(e.lstrip('…').startswith(b) for b in BYLINE)]
empty = [k for k, e in hits.items() if not e.strip()]
marker = [k for k, e in hits.items() if e.startswith('（') and e.endswith('）') and '正文' in e or '仅存标题' in e]
print(f"{len(qs)} queries, {len(hits)} distinct hits: chrome/status in excerpt {len(bad)}, byline first {len(by)}, blank {len(empty)}, no-text marker {len(marker)}")
from collections import Counter
c = Counter(x for v in bad.values() for x in v)
print("chrome seen:", dict(c))
for k in list(bad)[:8]: print("  ", k, hits[k][:80])
for k in by[:5]: print("  byline", k, hits[k][:80])
