#!/usr/bin/env python3
"""Builds a synthetic fidelity set: clean news articles wrapped in real WeChat page chrome.

    python3 benches/fidelity/make_set.py /tmp/fidelity-syn [--n 300] [--seed 1]
        [--xwlb ../shared/corpus/xwlb] [--wechat ../shared/corpus/wechat]

Writes OUT_DIR/pages/<name>.txt (a page in seed format), OUT_DIR/refs/<name>.txt (what the
reader should archive: the body's paragraphs, one a line, no title) and OUT_DIR/manifest.tsv.

Articles: N files of xwlb, one per N-th of the sorted corpus, so they span its four years.
Their text is clean, so everything of it is the reference; the page around it is not.

Chrome: real, cut from the hand-checked tune pages of wechat_refs.tsv, whose article ranges
say exactly where each page's header ends and its footer begins (a heuristic cut would put
short article lines into the chrome, or chrome into the article). Each made-up source takes
the header and footer of one such page, with the UI tail, and keeps them on every page, as an
account does, so that chrome learned from the collection can be learned; what a real account
varies varies per page: the title headings, the cover image, the byline's author and date,
the related-article links (all drawn from the corpus, outside the heldout pages). The ten
heldout pages of wechat_refs.tsv give nothing, so tuning on this set cannot see them.

Injections into the article text (all of it in the reference; the manifest says which):
  inline_url   a URL inside a Chinese sentence, no spaces around it
  url_line     `参考链接：` and bare URLs on their own lines
  html_table   an HTML table (th/td, attributes, spans, <br>, entities), one row a ref line
  pipe_table   a Markdown pipe table, same reference convention (`cell | cell`)
  md_link      a Markdown link inside a sentence (the reference has the link's text)
  headings     the source's own section headings (`一、漏洞概述`, `01`, `参考资料`), the same
               on every page of the source: article text that recurs like chrome
  list         a paragraph turned into `- item` or `1. item` lines
The split is by source: the heldout sources (about a third of the pages) have templates and
heading styles that tuning never sees.
"""
import argparse
import hashlib
import html
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The sibling modules are imported, not installed: no __pycache__ left in the repository.
sys.dont_write_bytecode = True
from wechat_refs import read_tsv  # noqa: E402

CORPUS = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'corpus'))

# Made-up accounts; more than the templates would be pointless, as each needs its own.
SOURCES = ['北辰安全观察', '青禾网安评论', '启明数据周刊', '远山情报站', '白鹭科技说', '长河安全研究',
           '松果信息安全', '海棠漏洞笔记', '云杉威胁情报', '墨竹网络空间', '星湖数字治理', '南风技术札记',
           '秋实安全参考', '苍梧应急响应', '临川网络治理']

# Section headings a source puts in every article (made up; the reader must keep them although
# they recur), and how the source writes them.
HEADING_STYLES = [
    (['一、漏洞概述', '二、漏洞详情', '三、修复建议'], '**{}**'),
    (['01', '02', '03', '04'], '{}'),
    (['背景', '修复建议：', '参考资料'], '## {}'),
    (['一、事件回顾', '二、各方回应', '三、后续进展'], '{}'),
    (['导读', '正文', '结语'], '**{}**'),
]

INLINE_URL = ['对{url}进行端口扫描之类的攻击行为已经没用了。', '详情可登录{url}查询。',
              '相关通知全文已在{url}发布。', '据{url}公布的数据，该项目已进入实施阶段。',
              '公众可通过{url}提交意见和建议。']
MD_LINK = ['更多内容可参阅[{text}]({url})。', '此前，[{text}]({url})对此进行了专门报道。',
           '具体办法见[{text}]({url})中的有关说明。', '有关背景可查看[{text}]({url})。']
LINK_TEXT = ['官方公告', '实施细则', '项目主页', '完整报告', '相关通知', '数据说明', '英文原文']
URL_LABELS = ['参考链接：', '参考来源：', '相关链接：', '参考资料：']
DOMAINS = ['www.example.com', 'example.org', 'news.example.net', 'data.example.cn', 'docs.example.com',
           'www.example.gov.cn', 'portal.example.org']
WORDS = ['news', 'report', 'policy', 'update', 'advisory', 'notice', 'data', 'article', 'x', 'doc']

TABLE_KEYS = ['漏洞编号', '漏洞名称', '影响版本', '安全版本', '危害等级', '发布时间', '利用状态',
              'CVSS评分', '披露来源', '处置建议']
PRODUCTS = ['某开源网关', '文件服务组件', '日志采集模块', 'Web管理界面', '统一认证平台']

P = {'inline_url': 0.3, 'url_line': 0.25, 'html_table': 0.2, 'pipe_table': 0.2, 'md_link': 0.25,
     'list': 0.25}
HEADINGS_P = 0.6  # of the pages of a source that has a heading style


def stable_hex(*parts, n=16):
    return hashlib.sha1('\x1f'.join(map(str, parts)).encode()).hexdigest()[:n]


def split_front_matter(text):
    """({key: value}, body lines) of a seed-format file."""
    lines = text.split('\n')
    meta = {}
    if lines and lines[0].strip() == '---':
        for i in range(1, len(lines)):
            if lines[i].strip() == '---':
                for l in lines[1:i]:
                    k, _, v = l.partition(':')
                    meta.setdefault(k.strip(), v.strip())
                return meta, lines[i + 1:], i + 1
    return meta, lines, 0


# ---------------------------------------------------------------- articles

def read_article(path):
    with open(path, encoding='utf-8') as f:
        meta, body, _ = split_front_matter(f.read())
    lines = [l.strip() for l in body if l.strip()]
    title = meta.get('title', '')
    if lines and lines[0].startswith('# '):
        title = lines[0][2:].strip() or title
        lines = lines[1:]
    return meta, title, lines


def pick_articles(xwlb, n, rng):
    """n articles, one from each n-th of the sorted corpus, at a seeded offset in it."""
    files = sorted(f for f in os.listdir(xwlb) if f.endswith('.txt'))
    stride = len(files) / n
    offset = rng.random()
    out, taken = [], set()
    for i in range(n):
        j = int((i + offset) * stride)
        # A too short article has no room for injections and says little; take the next.
        while j < len(files):
            if j not in taken:
                meta, title, paras = read_article(os.path.join(xwlb, files[j]))
                if title and paras and sum(map(len, paras)) >= 80:
                    break
            j += 1
        else:
            sys.exit('xwlb corpus too small for --n')
        taken.add(j)
        out.append((files[j], meta, title, paras))
    return out


# ---------------------------------------------------------------- chrome from real pages

class Template:
    """Header and footer of one hand-checked page, cut at its article ranges."""

    def __init__(self, wechat, name, ranges):
        with open(os.path.join(wechat, name), encoding='utf-8') as f:
            lines = f.read().split('\n')
        meta, _, body_start = split_front_matter('\n'.join(lines))
        self.name = name
        self.source = meta.get('source', '')
        first = min(a for a, _ in ranges)
        last = max(b for _, b in ranges)
        self.header = lines[body_start:first - 1]
        self.footer = lines[last:]
        headings = [l[2:].strip() for l in self.header if l.startswith('# ')]
        self.title = headings[0] if headings else meta.get('title', '')
        self.complete = any('预览时标签不可点' in l for l in self.footer)

    def render_header(self, title, account, cover, byline):
        out = []
        for line in self.header:
            bare = line.strip().replace('**', '')
            if line.startswith('# ') and line[2:].strip() == self.title:
                out.append('# ' + title)
                # A byline of another scraper's kind sits under the second title heading.
                if byline and sum(1 for l in out if l.startswith('# ')) == 2:
                    out += [''] + byline
                    byline = None
            elif bare == self.title:
                out.append(title)
            elif line.startswith('![cover_image]('):
                out.append(cover)
            elif bare == self.source:
                out.append(line.replace(self.source, account))
            else:
                out.append(line)
        return out + ([''] + byline if byline else [])

    def render_footer(self, account, related):
        out = []
        for line in self.footer:
            if RELATED_RE.match(line):
                out.append(related())
            elif line.strip().replace('**', '') == self.source:
                out.append(line.replace(self.source, account))
            else:
                out.append(line)
        return out


# A line that is only a link to another WeChat article (optionally behind a bullet or a
# thumbnail): the related-article lists under `往期推荐`, which a page varies.
RELATED_RE = re.compile(r'^\s*(?:[*-]\s+|\d+\.\s+)?(?:!\[[^\]]*\]\([^)]*\))?\[(?!http)[^\]!][^\]]*\]'
                        r'\(https?://mp\.weixin\.qq\.com/s[?/][^)]*\)\s*$')


def harvest(wechat, heldout, in_article):
    """Pools of real per-page chrome: cover lines, related-article lines, author names."""
    covers, related, authors = [], [], set()
    for f in sorted(os.listdir(wechat)):
        if not f.endswith('.txt') or f in heldout:
            continue
        with open(os.path.join(wechat, f), encoding='utf-8') as fh:
            lines = fh.read().split('\n')
        skip = in_article.get(f, set())
        for i, line in enumerate(lines, 1):
            if i in skip:
                continue
            if line.startswith('![cover_image]('):
                covers.append(line)
            elif RELATED_RE.match(line):
                related.append(line)
            elif line.strip() == '原创' and i < 40:
                # The author's name is the next non-blank line of a `原创` byline.
                nxt = next((l.strip() for l in lines[i:i + 4] if l.strip()), '')
                if 0 < len(nxt) <= 20 and not nxt.startswith(('!', '#', '[')):
                    authors.add(nxt)
    return covers, related, sorted(authors)


# ---------------------------------------------------------------- injections

def make_url(rng, query=True):
    scheme = rng.choice(['http', 'https', 'https'])
    path = '/'.join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.4:
        path += f'/{rng.randint(2019, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}.html'
    url = f'{scheme}://{rng.choice(DOMAINS)}/{path}'
    if query and rng.random() < 0.3:
        url += f'?id={rng.randint(100, 99999)}&lang=zh'
    return url


def sentences(p):
    """A paragraph's sentences, each with its end mark.

    An end mark inside 《》, quotes or brackets ends nothing (`《破坏之谜会被解开吗？》`,
    `他说：“……。”`): the sentence runs on to the next end mark outside them.
    """
    out, start, depth = [], 0, 0
    for i, ch in enumerate(p):
        if ch in '《“（(「『‘【':
            depth += 1
        elif ch in '》”）)」』’】':
            depth = max(0, depth - 1)
        elif ch in '。！？' and depth == 0:
            out.append(p[start:i + 1])
            start = i + 1
    if p[start:].strip():
        out.append(p[start:])
    return out


def insert_sentence(p, s, rng):
    # Not before the first sentence: a news lead (`央视网消息（新闻联播）：…`) stays first.
    parts = sentences(p)
    k = rng.randint(min(1, len(parts)), len(parts))
    return ''.join(parts[:k] + [s] + parts[k:])


def table_rows(rng):
    """Made-up key/value rows: [(key, value html, value text)]."""
    a, b = rng.randint(1, 9), rng.randint(0, 9)
    year = rng.randint(2019, 2025)
    values = {
        '漏洞编号': f'CVE-{year}-{rng.randint(1000, 49999)}',
        '漏洞名称': f'{rng.choice(PRODUCTS)}远程代码执行漏洞',
        '影响版本': f'{a}.{b}.0 &lt;= 版本 &lt; {a}.{b + 1}.2',
        '安全版本': f'{a}.{b + 1}.2<br>{a + 1}.0.1',
        '危害等级': rng.choice(['&#x4E2D;危', '高危', '<span style="color: rgb(255, 0, 0);">严重</span>']),
        '发布时间': f'{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}',
        '利用状态': rng.choice(['已发现在野利用', '暂未发现&nbsp;POC', '<span>细节已公开</span>']),
        'CVSS评分': f'{rng.randint(4, 9)}.{rng.randint(0, 9)}',
        '披露来源': rng.choice(['R&amp;D 安全团队', '厂商&nbsp;官方公告', '社区研究人员']),
        '处置建议': '尽快升级至安全版本<br/>或临时关闭相关功能',
    }
    keys = rng.sample(TABLE_KEYS, rng.randint(3, 6))
    return [(k, values[k], cell_text(values[k])) for k in keys]


def cell_text(cell_html):
    """What a cell reads as: <br> a space, tags gone, entities decoded, NBSP a space."""
    t = re.sub(r'<br\s*/?>', ' ', cell_html)
    t = re.sub(r'<[^>]+>', '', t)
    t = html.unescape(t).replace('\u00a0', ' ')
    return re.sub(r'\s+', ' ', t).strip()


def html_table(rng):
    rows = table_rows(rng)
    trs, ref = [], []
    if rng.random() < 0.4:
        trs.append('<thead><tr><th>项目</th><th>内容</th></tr></thead>')
        ref.append('项目 | 内容')
    body = []
    for k, v, vt in rows:
        key = rng.choice([f'<th>{k}</th>', f'<td><strong>{k}</strong></td>',
                          f'<td style="width: 30%;" class="k">{k}</td>', f'<td><span>{k}</span></td>'])
        body.append(f'<tr class="row">{key}<td valign="top">{v}</td></tr>')
        ref.append(f'{k} | {vt}')
    head = '<table border="1" cellspacing="0" style="width: 100%;">'
    if rng.random() < 0.5:
        page = [head + ''.join(trs) + '<tbody>' + ''.join(body) + '</tbody></table>']
    else:
        page = [head] + trs + ['<tbody>'] + body + ['</tbody>', '</table>']
    return page, ref


def pipe_table(rng):
    rows = table_rows(rng)
    bold = rng.random() < 0.5
    page, ref = [], []
    if rng.random() < 0.5:
        # The picker scraper's shape: an empty header row, then every row as data.
        page += ['|  |  |', '| --- | --- |']
    else:
        page += ['| 项目 | 内容 |', '| --- | --- |']
        ref.append('项目 | 内容')
    for k, _, vt in rows:
        page.append(f'| **{k}** | {vt} |' if bold else f'| {k} | {vt} |')
        ref.append(f'{k} | {vt}')
    return page, ref


# ---------------------------------------------------------------- pages

def build_article(paras, heading_style, rng):
    """The article as blocks [(page lines, ref lines)] and the injections made."""
    paras = list(paras)
    done = []
    free = list(range(len(paras)))  # paragraphs not yet changed: one injection each
    rng.shuffle(free)
    list_at = None

    if rng.random() < P['list']:
        fit = [i for i in free if 3 <= len(sentences(paras[i])) <= 10]
        if fit:
            list_at = fit[0]
            free.remove(list_at)
            done.append('list')
    if rng.random() < P['inline_url'] and free:
        i = free.pop()
        paras[i] = insert_sentence(paras[i], rng.choice(INLINE_URL).format(url=make_url(rng)), rng)
        done.append('inline_url')
    link_ref = {}
    if rng.random() < P['md_link'] and free:
        i = free.pop()
        tpl, text, url = rng.choice(MD_LINK), rng.choice(LINK_TEXT), make_url(rng, query=False)
        parts = sentences(paras[i])
        k = rng.randint(min(1, len(parts)), len(parts))
        seen = tpl.replace('[{text}]({url})', '{text}').format(text=text)
        link_ref[i] = ''.join(parts[:k] + [seen] + parts[k:])
        paras[i] = ''.join(parts[:k] + [tpl.format(text=text, url=url)] + parts[k:])
        done.append('md_link')

    blocks = []
    for i, p in enumerate(paras):
        if i == list_at:
            numbered = rng.random() < 0.5
            items = [s.strip() for s in sentences(p)]
            blocks.append(([f'{n}. {s}' if numbered else f'- {s}' for n, s in enumerate(items, 1)], items))
        else:
            blocks.append(([p], [link_ref.get(i, p)]))

    for kind, maker in (('html_table', html_table), ('pipe_table', pipe_table)):
        if rng.random() < P[kind]:
            blocks.insert(rng.randint(1, len(blocks)), maker(rng))
            done.append(kind)

    if heading_style and rng.random() < HEADINGS_P:
        names, fmt = heading_style
        k = min(len(names), len(blocks))
        # Headings before the first block and at even cuts after it.
        cuts = [round(j * len(blocks) / k) for j in range(k)]
        for j in reversed(range(k)):
            blocks.insert(cuts[j], ([fmt.format(names[j])], [names[j]]))
        done.append('headings')

    if rng.random() < P['url_line']:
        label = rng.choice(URL_LABELS)
        urls = [make_url(rng) for _ in range(rng.randint(1, 3))]
        blocks.append(([label] + urls, [label] + urls))
        done.append('url_line')
    return blocks, done


def page_text(meta, title, source, url, header, blocks, footer, rng):
    body = []
    for page_lines, _ in blocks:
        # Real pages put list items and table rows on consecutive lines, paragraphs apart.
        body += page_lines + ['']
    fm = ['---', f'title: {title}', f'url: {url}', f'source: {source}',
          f'date: {meta.get("date", "")}', f'fetch_date: {meta.get("fetch_date", "")}', '---', '']
    return '\n'.join(fm + header + [''] + body + footer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out_dir')
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--xwlb', default=os.path.join(CORPUS, 'xwlb'))
    ap.add_argument('--wechat', default=os.path.join(CORPUS, 'wechat'))
    args = ap.parse_args()
    rng = random.Random(args.seed)

    refs = read_tsv()
    heldout = {n for n, _, s in refs if s == 'heldout'}
    in_article = {n: {i for a, b in r for i in range(a, b + 1)} for n, r, _ in refs}
    templates = [Template(args.wechat, n, r) for n, r, s in refs if s == 'tune']
    # A template needs the page's footer and UI tail: pages the scraper cut off have none.
    templates = [t for t in templates if t.complete]
    covers, related, authors = harvest(args.wechat, heldout, in_article)
    if not (templates and covers and related and authors):
        sys.exit('no templates or chrome pools: check --wechat and wechat_refs.tsv')

    # One made-up source per template. Sizes fall off like real accounts' (a few large ones),
    # and the two smallest have too few pages for a line to be learned from their pages alone
    # (the reader wants a line in 4 pages of a source).
    n_src = min(len(templates), len(SOURCES))
    rng.shuffle(templates)
    small = [3, 2] if args.n >= 10 * n_src else []
    rest = args.n - sum(small)
    weights = [1 / (k + 1) ** 0.7 for k in range(n_src - len(small))]
    counts = [max(1, int(rest * w / sum(weights))) for w in weights]
    k = 0
    while sum(counts) < rest:
        counts[k % len(counts)] += 1
        k += 1
    while sum(counts) > rest:
        counts[counts.index(max(counts))] -= 1
    counts += small
    sources = []
    for j in range(n_src):
        authors_j = rng.sample(authors, rng.randint(1, 3))
        sources.append({
            'name': SOURCES[j], 'template': templates[j], 'count': counts[j], 'authors': authors_j,
            'byline': ['picker', 'oneline', 'zuozhe'][j % 3],
            'headings': HEADING_STYLES[j % len(HEADING_STYLES)] if j % 2 == 0 else None,
            'biz': stable_hex('biz', SOURCES[j], n=14),
        })
    # Heldout sources: about a third of the pages, whole sources, chosen in a seeded order.
    # Not the largest: the heldout numbers should not be one template's.
    order = list(range(1, n_src))
    rng.shuffle(order)
    held, total = set(), 0
    for j in order:
        if total + counts[j] <= args.n / 3:
            held.add(j)
            total += counts[j]
    labels = [j for j in range(n_src) for _ in range(counts[j])]
    rng.shuffle(labels)

    os.makedirs(os.path.join(args.out_dir, 'pages'), exist_ok=True)
    os.makedirs(os.path.join(args.out_dir, 'refs'), exist_ok=True)
    manifest = ['name\tsource\tsplit\tinjections\tarticle\ttemplate']
    for i, ((fname, meta, title, paras), j) in enumerate(zip(pick_articles(args.xwlb, args.n, rng), labels)):
        src = sources[j]
        t = src['template']
        author = rng.choice(src['authors'])
        date = meta.get('date', '')
        byline = {
            'picker': None,
            'oneline': [f'原创 {author} {src["name"]} {date} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}'],
            'zuozhe': [f'作者：{author}', '', f'来源：{src["name"]}'],
        }[src['byline']]
        header = t.render_header(title, src['name'], rng.choice(covers), byline)
        footer = t.render_footer(src['name'], lambda: rng.choice(related))
        blocks, done = build_article(paras, src['headings'], rng)
        name = f'{i:05d}_{stable_hex(fname, args.seed)}'
        url = (f'https://mp.weixin.qq.com/s?__biz={src["biz"]}==&mid={2247480000 + i}&idx=1'
               f'&sn={stable_hex("sn", name, n=32)}#rd')
        with open(os.path.join(args.out_dir, 'pages', name + '.txt'), 'w', encoding='utf-8') as f:
            f.write(page_text(meta, title, src['name'], url, header, blocks, footer, rng))
        with open(os.path.join(args.out_dir, 'refs', name + '.txt'), 'w', encoding='utf-8') as f:
            f.write('\n'.join(l for _, ref in blocks for l in ref) + '\n')
        split = 'heldout' if j in held else 'tune'
        manifest.append(f'{name}\t{src["name"]}\t{split}\t{",".join(done) or "-"}\t{fname}\t{t.name}')
    with open(os.path.join(args.out_dir, 'manifest.tsv'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(manifest) + '\n')
    n_held = sum(1 for m in manifest[1:] if '\theldout\t' in m)
    print(f'{args.n} pages from {n_src} sources ({len(held)} heldout sources, {n_held} heldout pages) '
          f'in {args.out_dir}')


if __name__ == '__main__':
    main()
