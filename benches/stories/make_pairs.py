#!/usr/bin/env python3
"""Labelled article pairs for measuring near-duplicate ("same story / repost") detection.

usage: make_pairs.py OUT_DIR [--corpus DIR] [--seed N]

  --corpus DIR  folder holding wechat/ and xwlb/ (default: /work/shared/corpus)
  --seed N      random seed (default 20261204); the output is a function of corpus and seed

Writes
  OUT_DIR/seeds/<id>.txt   seed files (front matter + body). Corpus articles keep their file
                           name as id (an empty `url:` is filled with https://example.com/xwlb/<id>);
                           edited copies are `<kind>_<n>_b` with url https://example.com/repost/<n>
                           and a source of their own.
  OUT_DIR/pairs.tsv        file_a TAB file_b TAB label TAB kind   (ids = file names without .txt;
                           label `same` or `diff`; no header line)
  OUT_DIR/notes.tsv        file_a TAB file_b TAB label TAB kind TAB note, for hand-labelled pairs
  OUT_DIR/unlabelled.tsv   pairs of seed files that look alike (anchor overlap) but are not in
                           pairs.tsv, for a look by eye

Kinds (label): repost-chrome, repost-cut, repost-trad (same: edited copies of corpus
articles); natural, natural-excerpt, natural-rewrite (same: found in the corpora, checked by
eye); template-xwlb, template-xwlb-near, template-wechat, related-wechat, short, random,
same-topic (diff). Python 3 standard library only; deterministic.
"""
import datetime
import glob
import itertools
import os
import random
import re
import shutil
import sys
import zlib
from collections import Counter, defaultdict
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textsim import END_MARKERS, clean, norm, parse, shingles  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Hand-labelled pairs: every pair found in the corpora by title and body overlap (all-pairs
# 4-shingle containment over the 829 WeChat pages, same-title and anchor-overlap search over
# xwlb and across the corpora), read side by side.

NATURAL = [
    # same: reposts already in the corpora
    ("picker_0dee8927557228f5", "picker_f5a31cb79abcd6ac", "same", "natural",
     "SonicWall的2022年网络威胁报告详述几大趋势: 关键基础设施安全应急响应中心 reposts 嘶吼专业版"),
    ("picker_0d7a64912844d69c", "picker_9f980ad457a497c9", "same", "natural",
     "网络关键设备安全检测结果（第9批）: same notice, two accounts, same day"),
    ("picker_0167c1e6990f1961", "picker_fa9544b97db1096b", "same", "natural",
     "从 SQL 注入到远程代码执行: 迪哥讲事 posted the same 骨哥说事 article twice, 8 months apart"),
    ("picker_31ece895e07a5dc7", "picker_64804b2ccf4221bc", "same", "natural",
     "安全资讯周报20230128期: same weekly digest under two accounts and two titles"),
    ("picker_45cf88199124f5aa", "picker_cd2235da31912bbd", "same", "natural",
     "涉及27个省份的侵犯公民个人信息案件: 安全圈 and 中国信息安全, same text, different titles"),
    ("picker_60e53bd46af20cc1", "picker_68060e2ce2fbc01c", "same", "natural",
     "CosMiss Azure Cosmos DB: two translations of the Orca post sharing most sentences"),
    ("10493_cc4b67fcf4d59532", "10507_019f5b2e5b95fd0e", "same", "natural",
     "习近平抵达喀山: the same xwlb item on two consecutive days"),
    # same: one is a short version / summary of the other
    ("12902_ceffbe4cad910f13", "12914_351be35d16f7bdf3", "same", "natural-excerpt",
     "习近平抵达吉隆坡: 85-char brief vs the full 550-char report the next day"),
    ("01225_995dc55b12b6fbe0", "picker_7157cb0b2231586c", "same", "natural-excerpt",
     "数据基础制度意见: xwlb summary vs the full text on 中国信息安全"),
    ("02559_0fa472437bdd7fc0", "picker_5822263d5680b7ac", "same", "natural-excerpt",
     "2023年清朗行动: xwlb summary vs the full press release"),
    # same: same event, written independently
    ("picker_0a01a594a095b0ee", "picker_10254cbc780360d6", "same", "natural-rewrite",
     "SocGholish supply-chain attack on US news sites: two independent write-ups"),
    ("picker_ec1f108deaf6db5f", "picker_fbe2ef3f7532360b", "same", "natural-rewrite",
     "FinCEN: 2021 ransomware losses 12亿美元: two independent write-ups"),
    # diff: same source, recurring template, different posts (hard negatives)
    ("picker_7d42870e0abe7279", "picker_e1213e19e60ea0e2", "diff", "template-wechat",
     "吾爱破解 开放注册公告 2025-07 vs 2024-11: same notice text, different events"),
    ("picker_dd70f0c64c866577", "picker_eae87a92dc418447", "diff", "template-wechat",
     "吾爱破解 暑假开放注册 2024 vs 2025: same wording, different years"),
    ("picker_2e06871f681f9cb5", "picker_b49f4b2d2b8e0d72", "diff", "template-wechat",
     "看雪 job ads 2022-12 vs 2023-02: mostly the same listings, different weekly posts"),
    ("picker_2e06871f681f9cb5", "picker_ef178454ea351b0f", "diff", "template-wechat",
     "看雪 job ads 2022-12 vs 2022-10"),
    ("picker_b49f4b2d2b8e0d72", "picker_ef178454ea351b0f", "diff", "template-wechat",
     "看雪 job ads 2023-02 vs 2022-10"),
    ("picker_739270a377fe80a2", "picker_e451add1337a197b", "diff", "template-wechat",
     "CNCERT 网络安全信息与动态周报 第9期 vs 第7期: same table skeleton"),
    # diff: related articles (a document and its commentary, two attacks by one group)
    ("picker_66a6ef7e96726177", "picker_820061356a19e12d", "diff", "related-wechat",
     "网信部门行政执法程序规定: the regulation vs an expert commentary quoting it"),
    ("picker_7157cb0b2231586c", "picker_9da4e4ad5fa752bb", "diff", "related-wechat",
     "数据基础制度意见: full text vs an expert commentary"),
    ("picker_4755d418ab465151", "picker_720b207d68e00b58", "diff", "related-wechat",
     "RansomBoggs vs Prestige ransomware: two Sandworm stories"),
    ("picker_11da9f8b94aa637f", "picker_7a0f619a81fd521e", "diff", "short",
     "分享图片 on two accounts: image-only posts, nothing to compare"),
]

# Left out on purpose (no honest label from the text): the three 吾爱破解 双十一抽奖 reminders
# (picker_9a8ecd4d8bd3108a, picker_b3dc288ddda36b4f, picker_5cad0984cdbb4b81: one campaign,
# re-posted daily, body = title); 诚邀渠道合作伙伴共启新征程 (picker_ac7139b29e2892bc,
# picker_c16d6759ca7b21ea: the same ad re-posted 3 months later, empty bodies); `.NET 内网攻防
# 实战电子报刊` (picker_205a9b41ae340781, picker_e58685598a9c434b, picker_c2c1457bb3fdd31d:
# same title monthly, two of them blocked pages). They are kept out of every other kind too.
# Pairs a kind's automatic selection must not take (read by eye, no honest label): the 二十届
# 中纪委五次全会 communique (2026-01-14) and Li Xi's work report to that plenary (2026-02-28),
# whose text the communique largely summarizes.
EXCLUDED_PAIRS = {("16731_2703efafd254d694", "17329_cc6cdeffbe2fe89c")}

AMBIGUOUS = {
    "picker_9a8ecd4d8bd3108a", "picker_b3dc288ddda36b4f", "picker_5cad0984cdbb4b81",
    "picker_ac7139b29e2892bc", "picker_c16d6759ca7b21ea",
    "picker_205a9b41ae340781", "picker_e58685598a9c434b", "picker_c2c1457bb3fdd31d",
}

# ---------------------------------------------------------------------------------------------
# Simplified -> traditional, common characters only (one candidate each; enough to make a
# copy that a reader sees as traditional and that shares few shingles with the original).
S2T_PAIRS = (
    "国國发發这這会會说說时時对對们們为為经經过過来來个個还還没沒进進动動现現实實学學开開关關"
    "么麼长長问問间間门門东東车車书書见見让讓认認议議论論话話语語读讀请請谈談计計设設证證评評"
    "识識变變业業产產务務员員机機网網络絡统統线線级級组組织織结結给給约約纪紀红紅续續维維总總"
    "应應当當声聲头頭电電边邊区區县縣广廣庆慶华華报報场場处處备備复復与與万萬专專两兩严嚴丰豐"
    "临臨举舉义義乐樂习習买買乱亂争爭亚亞亲親众眾优優传傳伤傷体體价價储儲兴興军軍农農决決况況"
    "几幾划劃刘劉则則刚剛创創删刪别別劳勞势勢协協单單卫衛历歷压壓厅廳参參双雙号號叶葉吗嗎围圍"
    "图圖圆圓坏壞块塊坚堅奋奮宁寧宝寶审審宪憲导導将將层層属屬岁歲币幣师師帮幫并並库庫异異张張"
    "归歸录錄态態恶惡战戰扩擴执執扬揚护護担擔拥擁择擇挥揮损損换換据據携攜数數断斷无無旧舊显顯"
    "术術权權条條杨楊极極构構枪槍标標样樣检檢欢歡欧歐残殘毕畢气氣汇匯汉漢沟溝泽澤洁潔济濟测測"
    "满滿灵靈点點热熱爱愛状狀独獨环環画畫疗療监監盘盤着著矿礦码碼础礎确確礼禮离離种種积積称稱"
    "稳穩竞競笔筆签簽简簡类類细細绍紹继繼绩績绿綠编編罗羅联聯职職胜勝脑腦节節药藥营營蓝藍虑慮"
    "视視规規览覽觉覺讯訊记記讲講许許诉訴词詞译譯试試诚誠询詢该該详詳误誤诸諸调調谁誰负負质質"
    "购購贸貿费費资資赛賽赵趙转轉轮輪软軟较較载載辑輯达達运運连連选選递遞遗遺邮郵释釋针針钱錢"
    "铁鐵银銀链鏈错錯键鍵镇鎮闭閉闻聞阅閱队隊阳陽阶階际際陆陸险險随隨隐隱难難页頁项項须須领領"
    "频頻题題额額风風飞飛馆館验驗鱼魚鸟鳥龙龍亿億汤湯滥濫漏漏"
)
S2T = {S2T_PAIRS[i]: S2T_PAIRS[i + 1] for i in range(0, len(S2T_PAIRS), 2)
       if S2T_PAIRS[i] != S2T_PAIRS[i + 1]}


def to_trad(text):
    return "".join(S2T.get(c, c) for c in text)


# ---------------------------------------------------------------------------------------------
# Repost chrome.

REPOST_SOURCES = [
    "网安资讯速递", "安全圈内人", "信息安全前沿", "数字安全观察", "网络空间研究院", "红蓝对抗笔记",
    "安全技术分享站", "每日安全快讯", "网安学习社", "威胁情报观察", "云安全实验室", "漏洞研究所",
    "时事资讯汇", "新闻早知道", "央媒速览", "政策解读君", "热点新闻播报", "中国要闻摘编",
    "天下资讯", "今日头条精选", "国际观察员", "财经时政圈", "科技与社会", "安全运营手记",
    "白帽子之家", "渗透测试笔记", "黑客技术研究", "数据安全前沿", "网安人才圈", "工控安全观察",
]
REPOST_SOURCES_TRAD = [to_trad(s) for s in REPOST_SOURCES]

UI_TAIL = (
    "预览时标签不可点\n\n微信扫一扫\n关注该公众号\n\n继续滑动看下一个\n\n轻触阅读原文\n\n"
    "{source}\n\n向上滑动看下一个\n\n知道了\n\n![]()\n微信扫一扫\n使用小程序\n\n取消\n允许\n\n"
    "视频\n小程序\n赞\n，轻点两下取消赞\n在看\n，轻点两下取消在看\n分享\n留言\n收藏\n听过"
)


def header_lines(rng, n, src, orig_source, date):
    """2-4 lines a reposting account puts above an article."""
    options = [
        lambda: src,
        lambda: f"转载 | {src}",
        lambda: f"本文转载自公众号「{orig_source}」，版权归原作者所有，如有侵权请联系删除。",
        lambda: rng.choice(["来源：", "来源｜", "文章来源：", "来源 | "]) + orig_source,
        lambda: f"![](https://example.com/img/repost/{n}/banner.png)",
        lambda: "点击上方蓝字关注我们",
        lambda: f"{src} {date} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}",
        lambda: f"编者按：近日，{orig_source}发布了一篇文章，现转载如下，供读者参考。",
    ]
    picks = rng.sample(range(len(options)), rng.randint(2, 4))
    return [options[i]() for i in sorted(picks)]


def footer_lines(rng, n, src, titles):
    """A reposting account's footer: sign-off, QR code, like bar, list of older posts."""
    out = []
    if rng.random() < 0.6:
        out.append(rng.choice(["- END -", "—END—", "END", "- THE END -"]))
    if rng.random() < 0.8:
        out.append(rng.choice(["往期推荐", "推荐阅读", "往期回顾", "相关阅读"]))
        for t in rng.sample(titles, rng.randint(3, 5)):
            if rng.random() < 0.5:
                out.append(f"[{t}](https://example.com/post/{zlib.crc32(t.encode()):08x})")
            else:
                out.append(t)
    choices = [
        f"![](https://example.com/img/repost/{n}/qrcode.png)",
        f"长按识别二维码，关注{src}",
        "关注我们",
        f"关注{src}，获取更多资讯",
        "点赞、在看、转发，一键三连！",
        "觉得不错，就点个“在看”吧",
        "投稿邮箱：tougao@example.com",
        "声明：本文内容来自网络，仅供学习交流，如有侵权请联系删除。",
        "欢迎分享到朋友圈",
    ]
    out.extend(rng.sample(choices, rng.randint(2, 5)))
    return out


# ---------------------------------------------------------------------------------------------
# Corpus.

class Doc:
    __slots__ = ("id", "corpus", "text", "fm", "body", "title", "source", "date", "norm",
                 "anchors", "tnorm")


def wechat_key(url):
    """The article identity of src/corpus/identity.rs, roughly."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    if host == "mp.weixin.qq.com":
        if parts.path.startswith("/s/") and len(parts.path) > 3:
            return "wx:s/" + parts.path[3:]
        q = parse_qs(parts.query)
        if "__biz" in q and ("mid" in q or "appmsgid" in q) and "idx" in q:
            return "wx:%s/%s/%s" % (q["__biz"][0], (q.get("mid") or q["appmsgid"])[0], q["idx"][0])
    return host + parts.path.rstrip("/") + ("?" + parts.query if parts.query else "")


def anchors_of(n):
    """Content-defined sample of the 6-shingles (1 in 16): for candidate search only."""
    return {s for s in shingles(n, 6) if zlib.crc32(s.encode()) % 16 == 0}


def load(corpus_dir):
    docs = {}
    for sub in ("wechat", "xwlb"):
        for path in sorted(glob.glob(os.path.join(corpus_dir, sub, "*.txt"))):
            d = Doc()
            d.id = os.path.basename(path)[:-4]
            d.corpus = sub
            with open(path, encoding="utf-8", errors="replace") as f:
                d.text = f.read()
            d.fm, d.body = parse(d.text)
            d.title = d.fm.get("title", "")
            d.source = d.fm.get("source", "")
            d.date = parse_date(d.fm.get("date", "")) or parse_date(d.fm.get("fetch_date", ""))
            d.norm = norm(clean(d.body, title=d.title, source=d.source))
            d.anchors = anchors_of(d.norm)
            d.tnorm = norm(d.title)
            docs[d.id] = d
    return docs


def parse_date(s):
    try:
        return datetime.date.fromisoformat(s.strip()[:10])
    except ValueError:
        return None


def days(a, b):
    if a.date is None or b.date is None:
        return 10**6
    return abs((a.date - b.date).days)


def near_pairs(docs, ids, min_ratio=0.5, min_common=3, max_df=60):
    """Pairs of `ids` sharing at least `min_ratio` of the smaller one's anchors."""
    inv = defaultdict(list)
    for i in ids:
        for a in docs[i].anchors:
            inv[a].append(i)
    count = Counter()
    for a in sorted(inv):
        ks = inv[a]
        if len(ks) > max_df:
            continue
        for x, y in itertools.combinations(sorted(ks), 2):
            count[(x, y)] += 1
    out = {}
    for (x, y), c in count.items():
        m = min(len(docs[x].anchors), len(docs[y].anchors))
        if c >= min_common and c / m >= min_ratio:
            out[(x, y)] = c / m
    return out


def containment(a, b, k=4):
    A, B = shingles(a, k), shingles(b, k)
    if not A or not B:
        return 0.0
    return len(A & B) / min(len(A), len(B))


# ---------------------------------------------------------------------------------------------
# Edited copies.

def article_parts(doc):
    """(content lines, has_ui_tail): the body without its leading `# title` heading and
    without the WeChat page UI after the end markers."""
    lines = doc.body.strip("\n").split("\n")
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out = []
    for line in lines:
        if any(m in line for m in END_MARKERS) or line.strip() in ("微信扫一扫", "继续滑动看下一个"):
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return out


def blocks(lines):
    """Paragraph blocks (separated by blank lines)."""
    out, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def copy_date(rng, doc):
    r = rng.random()
    if r < 0.7:
        delta = rng.randint(0, 3)
    elif r < 0.9:
        delta = rng.randint(4, 30)
    else:
        delta = rng.randint(31, 400)
    return (doc.date or datetime.date(2024, 1, 1)) + datetime.timedelta(days=delta)


def front(title, url, source, date):
    title = title.replace("\n", " ")
    return (f"---\ntitle: {title}\nurl: {url}\nsource: {source}\ndate: {date.isoformat()}\n"
            f"fetch_date: {date.isoformat()}T08:00:00\n---\n\n")


def new_title(rng, title, src):
    r = rng.random()
    if r < 0.5:
        return title
    if r < 0.7:
        return "【转载】" + title
    if r < 0.85:
        return f"{src} | {title}"
    return title + rng.choice(["（转）", "（全文）", "！", "丨收藏"])


def strip_own_chrome(lines):
    """The article without the account's own header and footer: the runs of short lines (names,
    markers, images, QR codes, sign-offs under 30 characters) before the first and after the
    last line of 30 or more characters of text."""
    long = [i for i, line in enumerate(lines) if len(norm(clean(line, chrome=False))) >= 30]
    if not long:
        return lines
    return lines[long[0]:long[-1] + 1]


def make_chrome(rng, n, doc, titles, trad=False):
    """A repost under another account: the original's own header and footer replaced by the
    new account's."""
    src = rng.choice(REPOST_SOURCES_TRAD if trad else REPOST_SOURCES)
    date = copy_date(rng, doc)
    title = new_title(rng, doc.title, src)
    lines = [f"# {title}", ""]
    for h in header_lines(rng, n, src, doc.source, date.isoformat()):
        lines += [h, ""]
    lines += strip_own_chrome(article_parts(doc))
    lines.append("")
    for f in footer_lines(rng, n, src, titles):
        lines += [f, ""]
    if doc.corpus == "wechat" or rng.random() < 0.5:
        lines.append(UI_TAIL.format(source=src))
    body = "\n".join(lines).rstrip("\n") + "\n"
    if trad:
        title, body = to_trad(title), to_trad(body)
    return front(title, f"https://example.com/repost/{n}", src, date) + body


def make_cut(rng, n, doc, titles):
    """Drop 1-3 paragraph blocks, keeping at least 60 % of the normalized text; maybe drop
    the header (the lines before the first long paragraph) too. None if impossible."""
    bl = blocks(article_parts(doc))
    sizes = [len(norm(clean("\n".join(b)))) for b in bl]
    total = sum(sizes)
    text_blocks = [i for i, s in enumerate(sizes) if s >= 20]
    if total < 300 or len(text_blocks) < 3:
        return None
    first_text = text_blocks[0]
    drop_header = rng.random() < 0.5 and first_text > 0
    for _ in range(50):
        k = rng.randint(1, min(3, len(text_blocks) - 2))
        drop = set(rng.sample(text_blocks, k))
        if drop_header:
            drop |= set(range(first_text))
        kept = sum(s for i, s in enumerate(sizes) if i not in drop)
        if kept >= 0.6 * total and any(i in drop for i in text_blocks):
            break
    else:
        return None
    src = rng.choice(REPOST_SOURCES)
    date = copy_date(rng, doc)
    title = doc.title if rng.random() < 0.6 else new_title(rng, doc.title, src)
    lines = [f"# {title}", ""]
    if rng.random() < 0.3:
        lines += [f"来源：{doc.source}", ""]
    for i, b in enumerate(bl):
        if i not in drop:
            lines += b + [""]
    if rng.random() < 0.3:
        for f in footer_lines(rng, n, src, titles):
            lines += [f, ""]
    body = "\n".join(lines).rstrip("\n") + "\n"
    return front(title, f"https://example.com/repost/{n}", src, date) + body, kept / total


def make_trad(rng, n, doc, titles):
    if rng.random() < 0.5:
        return make_chrome(rng, n, doc, titles, trad=True)
    src = rng.choice(REPOST_SOURCES_TRAD)
    date = copy_date(rng, doc)
    body = "\n".join([f"# {to_trad(doc.title)}", ""] + [to_trad(x) for x in article_parts(doc)])
    return front(to_trad(doc.title), f"https://example.com/repost/{n}", src, date) + body + "\n"


# ---------------------------------------------------------------------------------------------

def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    out_dir = args[0]
    corpus_dir, seed = "/work/shared/corpus", 20261204
    rest = args[1:]
    while rest:
        opt = rest.pop(0)
        if opt == "--corpus":
            corpus_dir = rest.pop(0)
        elif opt == "--seed":
            seed = int(rest.pop(0))
        else:
            sys.exit(f"unknown option {opt}\n{__doc__}")
    rng = random.Random(seed)

    print(f"loading {corpus_dir} ...", file=sys.stderr)
    docs = load(corpus_dir)
    wechat = [i for i in docs if docs[i].corpus == "wechat"]
    xwlb = [i for i in docs if docs[i].corpus == "xwlb"]
    print(f"{len(wechat)} wechat, {len(xwlb)} xwlb", file=sys.stderr)

    print("near-duplicate candidates ...", file=sys.stderr)
    near = near_pairs(docs, list(docs))
    has_near = set()
    for x, y in near:
        has_near.add(x)
        has_near.add(y)

    pairs = []          # (a, b, label, kind)
    notes = []          # (a, b, label, kind, note)
    seen = set()
    used_original = set()   # corpus ids whose edited copy exists
    copies = {}         # copy id -> text
    hand = set()
    for a, b, label, kind, note in NATURAL:
        hand.update((a, b))

    def add(a, b, label, kind, note=None):
        key = tuple(sorted((a, b)))
        if a == b or key in seen or key in EXCLUDED_PAIRS:
            return False
        seen.add(key)
        pairs.append((a, b, label, kind))
        if note:
            notes.append((a, b, label, kind, note))
        return True

    for a, b, label, kind, note in NATURAL:
        assert a in docs and b in docs, (a, b)
        add(a, b, label, kind, note)

    # Articles free of known look-alikes: the originals of edited copies and the members of
    # random / short / same-topic pairs, so that seeds hold no unlabelled same-story pair.
    def plain(i):
        d = docs[i]
        return i not in has_near and i not in hand and i not in AMBIGUOUS and d.tnorm not in ("", "undefined")

    all_titles = sorted({docs[i].title.replace("\n", " ") for i in docs
                         if 8 <= len(docs[i].title) <= 40 and "\n" not in docs[i].title})

    # --- same: edited copies --------------------------------------------------------------
    def eligible(ids):
        return [i for i in ids if plain(i) and len(docs[i].norm) >= 300 and i not in used_original]

    counter = [0]
    kind_count = Counter()

    def next_n():
        counter[0] += 1
        return counter[0]

    def copies_of(kind, ids, count, maker):
        pool = eligible(ids)
        rng.shuffle(pool)
        made = 0
        for i in pool:
            if made >= count:
                break
            n = next_n()
            res = maker(rng, n, docs[i], all_titles)
            if res is None:
                continue
            text = res[0] if isinstance(res, tuple) else res
            kind_count[kind] += 1
            cid = f"{kind}_{kind_count[kind]}_b"
            copies[cid] = text
            used_original.add(i)
            add(i, cid, "same", kind)
            made += 1
        return made

    for corpus_ids, share in ((wechat, 0.5), (xwlb, 0.5)):
        copies_of("repost-chrome", corpus_ids, int(150 * share), make_chrome)
    for corpus_ids in (wechat, xwlb):
        copies_of("repost-cut", corpus_ids, 50, make_cut)
    for corpus_ids in (wechat, xwlb):
        copies_of("repost-trad", corpus_ids, 25, make_trad)

    # --- diff: template-xwlb (same title, different days) ---------------------------------
    by_title = defaultdict(list)
    for i in xwlb:
        if docs[i].tnorm and docs[i].title != "undefined":
            by_title[docs[i].title].append(i)
    groups = [t for t in sorted(by_title) if len(by_title[t]) > 1]
    flash = {"国内联播快讯", "国际联播快讯", "联播快讯"}

    def title_pair(members):
        for _ in range(30):
            a, b = rng.sample(members, 2)
            if days(docs[a], docs[b]) >= 3 and a not in hand and b not in hand:
                return a, b
        return None

    others = [t for t in groups if t not in flash]
    rng.shuffle(others)
    made = 0
    for t in others:
        if made >= 200:
            break
        p = title_pair(by_title[t])
        if p and add(p[0], p[1], "diff", "template-xwlb"):
            made += 1
    for t in sorted(flash):
        if t not in by_title:
            continue
        want = 300 - made if t == "联播快讯" else min(50, 300 - made)
        for _ in range(want * 3):
            if want <= 0:
                break
            p = title_pair(by_title[t])
            if p and add(p[0], p[1], "diff", "template-xwlb"):
                made += 1
                want -= 1

    # --- diff: template-xwlb-near (different titles, near-identical template text) --------
    near_xwlb = []
    for (x, y), r in sorted(near.items()):
        dx, dy = docs[x], docs[y]
        if dx.corpus == dy.corpus == "xwlb" and dx.title != dy.title and days(dx, dy) >= 20 \
                and min(len(dx.norm), len(dy.norm)) >= 100 and "undefined" not in (dx.title, dy.title):
            near_xwlb.append((x, y))
    rng.shuffle(near_xwlb)
    per_doc = Counter()
    made = 0
    for x, y in near_xwlb:
        if made >= 60:
            break
        if per_doc[x] >= 1 or per_doc[y] >= 1:
            continue
        if add(x, y, "diff", "template-xwlb-near"):
            per_doc[x] += 1
            per_doc[y] += 1
            made += 1

    # --- diff: template-wechat (same source, shared title prefix or shared skeleton) ------
    by_source = defaultdict(list)
    for i in wechat:
        if i not in AMBIGUOUS and len(docs[i].norm) > 50:
            by_source[docs[i].source].append(i)

    def prefix_key(t):
        t = re.sub(r"[\d０-９]+", "#", norm(t))
        return t[:4]

    tw = []
    for src in sorted(by_source):
        ids = by_source[src]
        if src == "Doonsec's feed":   # an aggregator of many accounts, not one template
            continue
        for x, y in itertools.combinations(ids, 2):
            dx, dy = docs[x], docs[y]
            if dx.tnorm == dy.tnorm or days(dx, dy) < 1:
                continue
            same_prefix = len(dx.tnorm) >= 4 and prefix_key(dx.title) == prefix_key(dy.title)
            c = containment(dx.norm, dy.norm, 4)
            if same_prefix or c >= 0.1:
                tw.append((x, y, c, same_prefix))
    rng.shuffle(tw)
    tw.sort(key=lambda p: -p[2])        # the most template-like first, then shuffled order
    made = sum(1 for p in pairs if p[3] == "template-wechat")
    per_doc = Counter()
    for x, y, c, _ in tw:
        if made >= 200:
            break
        if per_doc[x] >= 4 or per_doc[y] >= 4:
            continue
        if (x, y) in near and (x in hand or y in hand):
            continue
        if add(x, y, "diff", "template-wechat"):
            per_doc[x] += 1
            per_doc[y] += 1
            made += 1

    # --- diff: short ----------------------------------------------------------------------
    notice_re = re.compile("环境异常|已被发布者删除|因违规无法查看|已被屏蔽|已自主注销")
    shorts = [i for i in wechat if len(docs[i].norm) <= 50 and i not in AMBIGUOUS and i not in hand]
    notices = [i for i in shorts if notice_re.search(docs[i].body)]
    others_short = [i for i in shorts if i not in set(notices)]
    xw_short = [i for i in xwlb if len(docs[i].norm) <= 50 and plain(i)]
    made = sum(1 for p in pairs if p[3] == "short")
    plan = [(notices, notices, 20), (others_short, others_short, 20), (xw_short, xw_short, 5),
            (notices, others_short, 5)]
    for pa, pb, want in plan:
        tries = 0
        while want > 0 and tries < 1000 and pa and pb:
            tries += 1
            a, b = rng.choice(pa), rng.choice(pb)
            if a == b or docs[a].tnorm == docs[b].tnorm:
                continue
            if add(a, b, "diff", "short"):
                want -= 1
                made += 1

    # --- diff: random ---------------------------------------------------------------------
    wpool = [i for i in wechat if plain(i)]
    xpool = [i for i in xwlb if plain(i)]
    for pa, pb, want in ((xpool, xpool, 80), (wpool, wpool, 60), (wpool, xpool, 60)):
        while want > 0:
            a, b = rng.choice(pa), rng.choice(pb)
            if a == b or docs[a].tnorm == docs[b].tnorm:
                continue
            if add(a, b, "diff", "random"):
                want -= 1

    # --- diff: same-topic (xwlb titles sharing a rare long word, a week or more apart) -----
    def title_core(t):
        return norm(re.sub(r"^【[^】]*】", "", t))

    gram_ids = defaultdict(set)
    cores = {}
    for i in xpool:
        c = title_core(docs[i].title)
        cores[i] = c
        grams = set()
        for n in range(4, 9):
            grams.update(c[j:j + n] for j in range(len(c) - n + 1))
        for g in grams:
            gram_ids[g].add(i)
    cands = []
    for g in sorted(gram_ids):
        ids = gram_ids[g]
        if not 2 <= len(ids) <= 6 or g.isdigit() or sum(ch.isdigit() for ch in g) > 1:
            continue
        cands.append((g, sorted(ids)))
    rng.shuffle(cands)
    cands.sort(key=lambda c: -len(c[0]))   # longest shared words first
    made, used_gram_docs = 0, Counter()
    for g, ids in cands:
        if made >= 100:
            break
        options = []
        for x, y in itertools.combinations(ids, 2):
            cx, cy = cores[x], cores[y]
            if cx == cy or days(docs[x], docs[y]) < 7:
                continue
            bx, by_ = shingles(cx, 2), shingles(cy, 2)
            if len(bx & by_) / max(1, len(bx | by_)) >= 0.6:
                continue
            if used_gram_docs[x] or used_gram_docs[y]:
                continue
            options.append((x, y))
        if not options:
            continue
        x, y = rng.choice(options)
        if add(x, y, "diff", "same-topic", f"title word {g}"):
            used_gram_docs[x] += 1
            used_gram_docs[y] += 1
            made += 1

    # --- write ----------------------------------------------------------------------------
    seeds = os.path.join(out_dir, "seeds")
    if os.path.isdir(seeds):
        shutil.rmtree(seeds)
    os.makedirs(seeds)
    ids = sorted({p[0] for p in pairs} | {p[1] for p in pairs})
    urls = {}
    for i in ids:
        if i in copies:
            text = copies[i]
        else:
            text = docs[i].text
            if re.search(r"^url:[ \t]*$", text, flags=re.M):
                text = re.sub(r"^url:[ \t]*$", f"url: https://example.com/xwlb/{i}", text,
                              count=1, flags=re.M)
        fm, _ = parse(text)
        key = wechat_key(fm.get("url", ""))
        if key is None or key in urls:
            sys.exit(f"url of {i} missing or not unique (also {urls.get(key)})")
        urls[key] = i
        with open(os.path.join(seeds, i + ".txt"), "w", encoding="utf-8") as w:
            w.write(text)
    with open(os.path.join(out_dir, "pairs.tsv"), "w", encoding="utf-8") as w:
        for p in pairs:
            w.write("\t".join(p) + "\n")
    with open(os.path.join(out_dir, "notes.tsv"), "w", encoding="utf-8") as w:
        for n in notes:
            w.write("\t".join(n) + "\n")

    # --- look-alikes among the seeds that no pair labels ----------------------------------
    sdocs = {}
    for i in ids:
        d = Doc()
        with open(os.path.join(seeds, i + ".txt"), encoding="utf-8") as f:
            d.fm, d.body = parse(f.read())
        d.title, d.source = d.fm.get("title", ""), d.fm.get("source", "")
        d.norm = norm(clean(d.body, title=d.title, source=d.source))
        d.anchors = anchors_of(d.norm)
        sdocs[i] = d
    loose = near_pairs(sdocs, ids, min_ratio=0.5)
    unl = [(x, y, r) for (x, y), r in sorted(loose.items()) if tuple(sorted((x, y))) not in seen]
    with open(os.path.join(out_dir, "unlabelled.tsv"), "w", encoding="utf-8") as w:
        for x, y, r in unl:
            w.write(f"{x}\t{y}\t{r:.2f}\t{sdocs[x].title[:40]}\t{sdocs[y].title[:40]}\n")

    kinds = Counter((p[3], p[2]) for p in pairs)
    print(f"{len(ids)} seed files, {len(pairs)} pairs -> {out_dir}")
    for (kind, label), c in sorted(kinds.items(), key=lambda kv: (kv[0][1] != "same", kv[0][0])):
        print(f"  {label:4}  {kind:20} {c:4}")
    print(f"  unlabelled look-alike pairs among the seeds: {len(unl)} (see unlabelled.tsv)")


if __name__ == "__main__":
    main()
