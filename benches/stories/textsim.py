"""Shared helpers for make_pairs.py and analyze.py: seed-file parsing, rough body cleaning,
normalization and character shingles. Python 3 standard library only."""
import re

IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
URL = re.compile(r"https?://\S+|www\.[A-Za-z0-9.-]+\S*")
MARKUP = re.compile(r"(\*\*|__|^\s*#+|^\s*>+|^\s*[-*+]\s+|^\s*\d+\.\s+|`+|\|)")

# A subset of the fixed WeChat chrome lists of src/corpus/clean.rs (END_MARKERS, UI_LINES,
# AD_WORDS), so that "cleaned" here is close to what the indexer keeps.
END_MARKERS = ("预览时标签不可点", "微信扫一扫可打开此内容", "继续滑动看下一个", "向上滑动看下一个")
UI_LINES = {
    "阅读原文", "微信扫一扫", "关注该公众号", "继续滑动看下一个", "轻触阅读原文", "向上滑动看下一个",
    "知道了", "使用小程序", "取消", "允许", "×", "分析", "使用完整服务", "视频", "小程序", "赞",
    "在看", "分享", "留言", "收藏", "听过", "写留言", "暂无留言", "已无更多数据", "喜欢此内容的人还喜欢",
    "，轻点两下取消赞", "，轻点两下取消在看", "轻点两下取消赞", "轻点两下取消在看", "预览时标签不可点",
    "点击上方蓝字关注我们", "点击蓝字 关注我们", "点击蓝字关注我们", "END", "- END -", "—END—",
    "原文链接", "往期推荐", "推荐阅读", "相关阅读", "长按识别二维码", "长按二维码关注",
}
AD_WORDS = (
    "扫码订阅", "邮发代号", "征订热线", "欢迎关注", "倾力推荐", "点击下图", "了解详情", "扫码关注",
    "长按二维码", "识别二维码", "点击关注", "关注我们", "订阅号", "抖音号", "视频号", "投稿邮箱",
    "转载请注明", "点击阅读原文", "阅读原文", "点个在看", "分享网络安全知识", "企业成长计划",
)


def parse(text):
    """(front matter dict, body) of a seed file's text."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    fm = {}
    if not text.startswith("---\n"):
        return fm, text
    lines = text.split("\n")
    for i in range(1, min(len(lines), 41)):
        if lines[i].strip() == "---":
            for line in lines[1:i]:
                key, sep, value = line.partition(":")
                if sep and re.fullmatch(r"[A-Za-z0-9_-]+", key.strip()):
                    fm[key.strip().lower()] = value.strip()
            return fm, "\n".join(lines[i + 1:])
    return fm, text


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f.read())


def clean(body, chrome=True, title="", source=""):
    """Body text without images, link targets, tags, URLs, markdown symbols and lines of
    fewer than 4 characters. With `chrome`, also without the fixed WeChat UI lines and short
    ad lines, cut at the page's end markers, and without lines that only repeat the title or
    the source (as src/corpus/clean.rs does)."""
    skip = {norm(title), norm(source)} - {""} if chrome else set()
    out = []
    for raw in body.split("\n"):
        line = IMAGE.sub("", raw)
        line = LINK.sub(r"\1", line)
        line = TAG.sub("", line)
        line = URL.sub("", line)
        line = MARKUP.sub("", line).replace("&nbsp;", " ").strip()
        end = False
        if chrome:
            pos = [line.find(m) for m in END_MARKERS if m in line]
            if pos:
                line, end = line[: min(pos)].strip(), True
            if line in UI_LINES or (len(line) <= 40 and any(w in line for w in AD_WORDS)):
                line = ""
        if len(line) >= 4 and norm(line) not in skip:
            out.append(line)
        if end:
            break
    return "\n".join(out)


def norm(text):
    """Only alphanumeric characters (str.isalnum), ASCII lowercased."""
    return "".join(c.lower() if c.isascii() else c for c in text if c.isalnum())


def shingles(s, k):
    return {s[i:i + k] for i in range(len(s) - k + 1)}
