#!/usr/bin/env python3
"""Exact similarity of the labelled pairs of make_pairs.py, and the decision rules it supports.

usage: analyze.py OUT_DIR [--raw] [--fold] [--min-precision P] [--tsv FILE]

  --raw            clean as the brief says only (front matter, images, markup, URLs, lines < 4
                   chars); default: also drop the fixed WeChat chrome of src/corpus/clean.rs and
                   lines that repeat the title or the source
  --fold           fold traditional characters to simplified before shingling (the inverse of
                   make_pairs' own character map: optimistic, the indexer's OpenCC t2s stands in)
  --min-precision  target precision of the recommended rule (default 0.99)
  --tsv FILE       also write one line per pair with every feature

Per pair and k in {3,4,5}: character k-shingle sets A, B of the cleaned, normalized body
(str.isalnum characters only, ASCII lowercased); Jaccard |A∩B|/|A∪B|; containment
|A∩B|/min(|A|,|B|); sizes; title equality after normalization. `same` is the positive label.
"""
import datetime
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textsim import clean, norm, read, shingles  # noqa: E402

KS = (3, 4, 5)


def parse_args(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    opts = {"dir": argv[0], "raw": False, "fold": False, "minp": 0.99, "tsv": None}
    rest = argv[1:]
    while rest:
        a = rest.pop(0)
        if a == "--raw":
            opts["raw"] = True
        elif a == "--fold":
            opts["fold"] = True
        elif a == "--min-precision":
            opts["minp"] = float(rest.pop(0))
        elif a == "--tsv":
            opts["tsv"] = rest.pop(0)
        else:
            sys.exit(f"unknown option {a}\n{__doc__}")
    return opts


def load_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                a, b, label, kind = line.rstrip("\n").split("\t")[:4]
                pairs.append((a, b, label, kind))
    return pairs


class Art:
    __slots__ = ("title", "date", "sh")


def load_articles(seeds, ids, raw, fold):
    t2s = {}
    if fold:
        from make_pairs import S2T
        t2s = {v: k for k, v in S2T.items()}
    arts = {}
    for i in ids:
        fm, body = read(os.path.join(seeds, i + ".txt"))
        a = Art()
        title = fm.get("title", "")
        text = clean(body, chrome=not raw, title=title, source=fm.get("source", ""))
        if t2s:
            text = "".join(t2s.get(c, c) for c in text)
            title = "".join(t2s.get(c, c) for c in title)
        n = norm(text)
        a.title = norm(title)
        a.date = fm.get("date", "")[:10]
        a.sh = {k: shingles(n, k) for k in KS}
        arts[i] = a
    return arts


def day_gap(a, b):
    try:
        return abs((datetime.date.fromisoformat(a) - datetime.date.fromisoformat(b)).days)
    except ValueError:
        return 10**6


def features(arts, pairs):
    rows = []
    for a, b, label, kind in pairs:
        A, B = arts[a], arts[b]
        row = {"a": a, "b": b, "label": label, "kind": kind, "title_eq": A.title == B.title and A.title != "",
               "days": day_gap(A.date, B.date)}
        for k in KS:
            sa, sb = A.sh[k], B.sh[k]
            inter = len(sa & sb)
            union = len(sa) + len(sb) - inter
            lo, hi = min(len(sa), len(sb)), max(len(sa), len(sb))
            row[k] = {
                "inter": inter, "min": lo, "max": hi,
                "jac": inter / union if union else 0.0,
                "cont": inter / lo if lo else 0.0,
            }
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Rules: a rule is (name, predicate over a row).

def rule(k, metric, t, m=0, r=0.0):
    name = f"k={k} {metric}>={t:.2f}"
    if m:
        name += f" min>={m}"
    if r:
        name += f" min/max>={r:.2f}"

    def pred(row):
        f = row[k]
        if f["min"] < m or (r and f["min"] < r * f["max"]):
            return False
        return f[metric] >= t
    return name, pred, (k, metric, t, m, r)


def score(rows, pred):
    tp = fp = fn = tn = 0
    for row in rows:
        hit = pred(row)
        if row["label"] == "same":
            tp += hit
            fn += not hit
        else:
            fp += hit
            tn += not hit
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, tp, fp


def pct(x):
    return f"{100 * x:5.1f}"


def main():
    o = parse_args(sys.argv[1:])
    pairs = load_pairs(os.path.join(o["dir"], "pairs.tsv"))
    ids = sorted({p[0] for p in pairs} | {p[1] for p in pairs})
    arts = load_articles(os.path.join(o["dir"], "seeds"), ids, o["raw"], o["fold"])
    rows = features(arts, pairs)
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: (
        next(r["label"] for r in rows if r["kind"] == k) != "same", k))
    label_of = {k: next(r["label"] for r in rows if r["kind"] == k) for k in kinds}
    npos = sum(r["label"] == "same" for r in rows)
    mode = ("raw" if o["raw"] else "chrome-aware") + (" cleaning, t2s-folded" if o["fold"] else " cleaning")
    print(f"{len(rows)} pairs ({npos} same, {len(rows) - npos} diff), {len(ids)} files; {mode}")

    # --- per kind: distribution of the k=4 features -------------------------------------------
    print("\nPer kind, k=4: median [min-max] of Jaccard, containment, smaller size; title equal")
    print(f"  {'kind':20} {'label':5} {'n':>4}  {'jaccard':>17}  {'containment':>17}  {'min size':>17} {'title=':>6}")
    for kind in kinds:
        rs = [r for r in rows if r["kind"] == kind]

        def dist(key):
            v = sorted(r[4][key] for r in rs)
            fmt = (lambda x: f"{x:.2f}") if isinstance(v[0], float) else (lambda x: f"{x}")
            return f"{fmt(v[len(v) // 2])} [{fmt(v[0])}-{fmt(v[-1])}]"
        teq = sum(r["title_eq"] for r in rs)
        print(f"  {kind:20} {label_of[kind]:5} {len(rs):4}  {dist('jac'):>17}  {dist('cont'):>17}  {dist('min'):>17} {teq:6}")

    # --- threshold tables ------------------------------------------------------------------
    ts = [x / 10 for x in range(2, 10)]
    for metric in ("jac", "cont"):
        print(f"\n{'Jaccard' if metric == 'jac' else 'Containment'} >= t: precision / recall (%), "
              "without and with a minimum size (both bodies >= 50 shingles)")
        print("  " + " " * 12 + "".join(f"  t={t:.1f}      " for t in ts))
        for k in KS:
            for m in (0, 50):
                cells = []
                for t in ts:
                    p, r, tp, fp = score(rows, rule(k, metric, t, m)[1])
                    cells.append(f"{pct(p)}/{pct(r)}")
                print(f"  k={k} min>={m:<3}" + "".join(f" {c:>13}" for c in cells))

    # --- search ----------------------------------------------------------------------------
    cands = []
    for k in KS:
        for metric in ("jac", "cont"):
            for t in [x / 100 for x in range(10, 100, 5)]:
                for m in (0, 10, 20, 30, 50, 80, 100, 150, 200):
                    for r in ((0.0,) if metric == "jac" else (0.0, 0.1, 0.2, 0.3, 0.5)):
                        cands.append(rule(k, metric, t, m, r))
    scored = []
    for name, pred, params in cands:
        p, r, tp, fp = score(rows, pred)
        scored.append((p, r, tp, fp, name, pred, params))
    ok = [s for s in scored if s[0] >= o["minp"]]
    # highest recall; then the most lenient threshold margin: lower size floor, lower t
    ok.sort(key=lambda s: (-s[1], s[6][3], -s[6][2]))
    print(f"\nRules with precision >= {o['minp']:.2f}, highest recall first (of {len(cands)} tried):")
    shown, seen_r = 0, set()
    for p, r, tp, fp, name, _, params in ok:
        key = (params[0], params[1], round(r, 4))
        if key in seen_r:
            continue
        seen_r.add(key)
        print(f"  P {pct(p)}  R {pct(r)}  TP {tp:4}  FP {fp:3}   {name}")
        shown += 1
        if shown >= 12:
            break
    if not ok:
        print("  none; best precision reached:", max(scored, key=lambda s: (s[0], s[1]))[4])
        return
    best = ok[0]
    # best rule per metric and k, for the per-kind table
    per = {}
    for s in ok:
        key = (s[6][0], s[6][1])
        if key not in per:
            per[key] = s
    columns = [best] + [per[key] for key in sorted(per) if per[key] is not best][:5]

    print("\nPer kind, share of pairs each rule calls `same` (%): recall for same kinds, "
          "false-positive rate for diff kinds")
    for i, c in enumerate(columns):
        print(f"  [{i}] {c[4]}   (P {pct(c[0])}, R {pct(c[1])})")
    print(f"  {'kind':20} {'label':5} {'n':>4} " + "".join(f"   [{i}]" for i in range(len(columns))))
    for kind in kinds:
        rs = [r for r in rows if r["kind"] == kind]
        cells = "".join(f" {pct(sum(c[5](r) for r in rs) / len(rs))}" for c in columns)
        print(f"  {kind:20} {label_of[kind]:5} {len(rs):4} {cells}")

    # --- around the recommended rule ----------------------------------------------------
    bk, bmetric = best[6][0], best[6][1]
    print(f"\nAround the recommended rule (k={bk}, {bmetric}): precision/recall (%) and false "
          "positives by threshold t and minimum size m (shingles of the smaller body)")
    ms = (0, 20, 50, 100, 150, 200)
    print("  " + " " * 8 + "".join(f"   m={m:<3}         " for m in ms))
    for t in (0.8, 0.85, 0.9, 0.95, 0.98):
        cells = []
        for m in ms:
            p, r, tp, fp = score(rows, rule(bk, bmetric, t, m)[1])
            cells.append(f"{pct(p)}/{pct(r)} fp{fp:<3}")
        print(f"  t={t:.2f} " + " ".join(cells))

    # --- failures of the recommended rule -----------------------------------------------
    k = best[6][0]
    print(f"\nRecommended: {best[4]}  (precision {pct(best[0])} %, recall {pct(best[1])} %)")
    fns = [r for r in rows if r["label"] == "same" and not best[5](r)]
    fps = [r for r in rows if r["label"] == "diff" and best[5](r)]
    print(f"Missed same pairs: {len(fns)} by kind {dict(Counter(r['kind'] for r in fns))}")
    for r in sorted(fns, key=lambda r: (r["kind"], -r[k]["jac"]))[:25]:
        f = r[k]
        print(f"  {r['kind']:16} {r['a']:28} {r['b']:22} jac {f['jac']:.2f} cont {f['cont']:.2f} "
              f"sizes {f['min']}/{f['max']}")
    print(f"False same: {len(fps)}")
    for r in fps:
        f = r[k]
        print(f"  {r['kind']:16} {r['a']:28} {r['b']:22} jac {f['jac']:.2f} cont {f['cont']:.2f} "
              f"sizes {f['min']}/{f['max']}")
    # the closest diff pairs, whether or not they pass
    near = sorted((r for r in rows if r["label"] == "diff"), key=lambda r: -r[k][best[6][1]])[:8]
    print(f"Closest diff pairs by {best[6][1]} (k={k}):")
    for r in near:
        f = r[k]
        print(f"  {r['kind']:16} {r['a']:28} {r['b']:22} jac {f['jac']:.2f} cont {f['cont']:.2f} "
              f"sizes {f['min']}/{f['max']}")

    # --- with a date window (dates of the seed files) ----------------------------------
    print("\nBest rule with precision >= %.2f when pairs must also be dated at most D days apart" % o["minp"])
    print("(edited copies are dated +0-3 days for 70 %, +4-30 for 20 %, +31-400 for 10 %: a made-up")
    print("spread, and template-xwlb pairs are >= 3 days apart by construction: an illustration only)")
    for d in (3, 7, 30, 90, 365):
        found = []
        for p_, r_, tp_, fp_, name, pred, params in scored:
            if params[1] != "cont" or params[4]:
                continue
            p, r, tp, fp = score(rows, lambda row, pred=pred: pred(row) and row["days"] <= d)
            if p >= o["minp"]:
                found.append((r, -params[3], params[2], p, tp, fp, name))
        if found:
            r, _, _, p, tp, fp, name = max(found)
            print(f"  D<={d:<4} {name:30} P {pct(p)}  R {pct(r)}  TP {tp}  FP {fp}")

    if o["tsv"]:
        with open(o["tsv"], "w", encoding="utf-8") as w:
            cols = ["a", "b", "label", "kind", "title_eq"]
            w.write("\t".join(cols + [f"{x}{k}" for k in KS for x in ("jac", "cont", "min", "max")]) + "\n")
            for r in rows:
                vals = [r["a"], r["b"], r["label"], r["kind"], str(int(r["title_eq"]))]
                for k in KS:
                    vals += [f"{r[k]['jac']:.4f}", f"{r[k]['cont']:.4f}", str(r[k]["min"]), str(r[k]["max"])]
                w.write("\t".join(vals) + "\n")


if __name__ == "__main__":
    main()
